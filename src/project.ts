// Where the project's own files are, found the same way whether the code runs from src/ (tests)
// or from the compiled dist/ (npm start): the nearest folder up with our package.json.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot (from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}

export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)))
export const packageInfo = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
  name: string
  version: string
}
