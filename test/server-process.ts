// The real server as a child process, for tests about what only a process shows: signals, exit
// codes, and the log files and streams it leaves behind.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import type { Test } from 'tap'
import { projectRoot } from '../src/project.js'
import { migratedDataDir, tempDir } from './helper.js'

export interface ServerProcess {
  /** http://127.0.0.1:<port> */
  base: string
  pid: number
  stdout: () => string
  stderr: () => string
  /** Sends the signal and resolves to the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

// The test runner's loader (NODE_OPTIONS) and variables would make the server a different program.
function ownEnvironment (): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^_?TAP/.test(name)))
}

/**
 * Starts dist/src/server.js (built by pretest) on a free port with an embedded database in a test
 * folder, empty and migrated, unless env names its DATA_DIR or a DATABASE_URL (an empty folder then).
 */
export async function startServer (t: Test, env: Record<string, string> = {}, nodeOptions: string[] = []): Promise<ServerProcess> {
  const dataDir = env.DATA_DIR ?? (env.DATABASE_URL === undefined ? await migratedDataDir(t) : await tempDir(t))
  const child = spawn(process.execPath, [...nodeOptions, join(projectRoot, 'dist/src/server.js')], {
    // Every test client is one address opening many sessions: the limit per address is off unless a test sets it.
    env: { ...ownEnvironment(), PORT: '0', DATA_DIR: dataDir, LOG_DIR: '', LOG_LEVEL: 'info', NEW_SESSIONS_PER_MINUTE: '0', TURNS_PER_SESSION_PER_MINUTE: '0', TURNS_PER_CLIENT_PER_MINUTE: '0', WRONG_KEYS_PER_MINUTE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = once(child, 'exit') as Promise<[number | null]>
  const base = await new Promise<string>((resolve, reject) => {
    const look = (): void => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
      if (match !== null) resolve(match[1]!)
    }
    child.stdout.on('data', look)
    exited.then(([code]) => reject(new Error(`server exited with ${code} before listening:\n${stdout}\n${stderr}`)))
  })
  return {
    base,
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal)
      return (await exited)[0]
    }
  }
}
