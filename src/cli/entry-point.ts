// Whether a CLI module is the program being run (rather than imported by a test).
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
