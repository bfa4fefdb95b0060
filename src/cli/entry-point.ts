// What the command-line tools share: whether a CLI module is the program being run (rather than
// imported by a test), and the streams a test can replace.
import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

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
