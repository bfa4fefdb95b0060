// What the command-line tools share: whether a CLI module is the program being run (rather than
// imported by a test), the streams a test can replace, and how a refused argument is said.
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { loadEnvFile } from '../env-file.js'

/** True when the module at moduleUrl is the script node was started with. */
export function isEntryPoint (moduleUrl: string): boolean {
  // A bin is reached through a node_modules/.bin symlink, while import.meta.url is the real path.
  try {
    return process.argv[1] !== undefined && moduleUrl === pathToFileURL(realpathSync(process.argv[1])).href
  } catch {
    return false
  }
}

/** Where a command writes; tests pass their own streams. A TTY stderr gets a progress bar. */
export interface Io {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

/**
 * Runs a CLI's main as the program: the .env file read, its exit code set. A reader that closes the
 * pipe early (`| head`, a jq that stopped) ends it quietly, as it would end a Unix tool, rather than
 * with a stack trace and an exit code the CLI gives other meanings.
 */
export async function runAsProgram (
  main: (argv: string[], env: Record<string, string | undefined>) => Promise<number>
): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0)
  })
  loadEnvFile()
  process.exitCode = await main(process.argv.slice(2), process.env)
}

/**
 * What util.parseArgs threw, as the tools say it. For an unknown option, its first sentence only:
 * where positionals are allowed, Node goes on to explain `--` for those that start with a dash,
 * ending in a quote it never closes (`as in '-- "--urll"`), which reads as part of what was typed.
 */
export function argsProblem (error: unknown): string {
  const { code, message } = error as { code?: unknown, message: string }
  if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message
  const end = message.indexOf('. ')
  return end === -1 ? message : message.slice(0, end)
}
