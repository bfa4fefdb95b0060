// Prints the fast suite: every test file that starts no process and no browser (it imports neither
// test/server-process.ts, node:child_process nor playwright-core), as `npm run test:fast` runs it on
// the Node.js lines CI does not run the whole suite on. Told by what a file imports, a new test
// that spawns the server leaves the fast suite by itself.
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { projectRoot } from '../src/project.js'

const SLOW = /from '[./]*server-process\.js'|from 'node:child_process'|from 'playwright-core'/

const files = (await readdir(join(projectRoot, 'test'), { recursive: true })).filter(name => name.endsWith('.test.ts')).sort()
const fast: string[] = []
for (const name of files) {
  const path = join(projectRoot, 'test', name)
  if (!SLOW.test(await readFile(path, 'utf8'))) fast.push(relative(projectRoot, path))
}
console.log(fast.join('\n'))
