/**
 * Start-up benchmark: from `npm start` to the first 200 of GET /ready on the embedded database, the
 * first start (which creates the database and loads the bundled documents) and the starts after
 * it, against a start that compiles the TypeScript and the pages first (what `npm start` did before
 * the build moved to `npm ci`'s `prepare`), side by side in one run.
 *
 *   npm run bench:startup                # 3 rounds
 *   npm run bench:startup -- --rounds 5
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { projectRoot } from '../src/project.js'
import { benchFlags } from './bench-flags.js'

const { rounds } = benchFlags('bench:startup', {
  rounds: { kind: 'count', default: 3, meaning: 'rounds' }
})

/** Milliseconds from spawning `command` to the server's first 200 of /ready; the server is stopped after. */
async function timeToReady (command: string, dataDir: string, port: number): Promise<number> {
  const started = performance.now()
  const child = spawn('sh', ['-c', command], {
    cwd: projectRoot,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_DIR: '', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
    detached: true
  })
  try {
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/ready`).then(response => response.status === 200, () => false)
      if (ready) return performance.now() - started
      if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}`)
      await sleep(20)
    }
  } finally {
    // npm, the shell and the server are one process group: the next start waits until all are gone.
    process.kill(-child.pid!, 'SIGTERM')
    for (;;) {
      try { process.kill(-child.pid!, 0) } catch { break }
      await sleep(20)
    }
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function main (): Promise<void> {
  console.log(`# Start-up benchmark (${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version})\n`)
  const ways = [
    ['npm start (built at install)', 'npm start --silent'],
    ['build, then start (as before)', 'npm run build --silent 2>/dev/null && npm start --silent']
  ] as const
  const results = new Map<string, { first: number[], again: number[] }>(ways.map(([name]) => [name, { first: [], again: [] }]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, command] of ways) {
      const dataDir = await mkdtemp(join(os.tmpdir(), 'parley-startup-'))
      const result = results.get(name)!
      result.first.push(await timeToReady(command, dataDir, 3900 + round))
      result.again.push(await timeToReady(command, dataDir, 3900 + round))
      await rm(dataDir, { recursive: true, force: true })
    }
  }
  console.log(`| way | first start (new database), median of ${rounds} | a start after it, median of ${rounds} | each start after it |`)
  console.log('|---|---|---|---|')
  for (const [name, { first, again }] of results) {
    console.log(`| ${name} | ${(median(first) / 1000).toFixed(2)} s | ${(median(again) / 1000).toFixed(2)} s | ${again.map(ms => (ms / 1000).toFixed(2)).join(' / ')} s |`)
  }
}

await main()
