// The process the README starts: a signal to `npm start`'s PID (what a terminal, systemd or a
// supervisor sends) reaches the server, which exits 0 with its last lines on disk, and nothing is
// left serving. `npm start` runs what `npm ci` (or pretest) built: it builds nothing itself.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { projectRoot } from '../../src/project.js'
import { tempDir, waitFor } from '../helper.js'

// How each signal is sent: to npm's PID, or, as Ctrl-C in a terminal (or `kill -- -<pgid>`) does, to
// every process of npm's group: the server gets the signal twice, its own and npm's passed on
// (which made it exit 1 mid-shutdown, now and then, when the second was taken for a second one).
const deliveries = [
  { signal: 'SIGTERM', to: 'npm' },
  { signal: 'SIGINT', to: 'npm' },
  { signal: 'SIGINT', to: 'the process group (Ctrl-C in a terminal)' },
  { signal: 'SIGTERM', to: 'the process group (kill -- -<pgid>)' }
] as const

for (const { signal, to } of deliveries) {
  t.test(`${signal} to ${to} of npm start ends the server, exit code 0, with every line written`, async t => {
    const dir = await tempDir(t)
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^_?TAP/.test(name) && !name.startsWith('npm_')))
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: projectRoot,
      env: { ...env, PORT: '0', DATA_DIR: join(dir, 'data'), LOG_DIR: join(dir, 'logs'), OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true // a process group of its own, as a terminal's foreground job has
    })
    t.teardown(() => { try { process.kill(-npm.pid!, 'SIGKILL') } catch {} })
    let stdout = ''
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    npm.stderr.resume()
    const exited = once(npm, 'exit') as Promise<[number | null, string | null]>
    t.ok(await waitFor(() => /Server listening at http:\/\/127\.0\.0\.1:\d+/.test(stdout), 60_000, 50), 'the server listens')
    const base = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!
    t.equal((await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: '/help' }) })).status, 200)

    if (to === 'npm') npm.kill(signal)
    else process.kill(-npm.pid!, signal)
    const [code] = await exited
    t.equal(code, 0, 'npm exits 0: the server it ran did')
    t.equal(await fetch(`${base}/health`).then(() => 'answered', () => 'refused'), 'refused', 'nothing is left listening')
    const log = await readFile(join(dir, 'logs', 'chatbot.log'), 'utf8')
    t.equal(log.match(new RegExp(`"signal":"${signal}","msg":"shutting down"`, 'g'))?.length, 1, 'the server got the signal, and shut down once')
    t.notMatch(log, /second SIG/, 'a signal arriving twice at once is one signal')
    t.match(log, /"msg":"shut down"/, 'and its last line is on disk')
  })
}
