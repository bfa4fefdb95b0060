// Prints the test files of one suite, split by what a file needs, as the npm scripts run them:
//   unit     everything in this process: app.inject, src/ called directly (`npm test`)
//   process  starts the built server or a CLI as a process (`npm run test:process`)
//   browser  drives Chromium against the real server (`npm run test:browser`)
//   all      the three in one tap run, for one coverage figure (`npm run test:all`, as CI runs)
// A file's suite is told by what it imports, so a new test file joins its suite by itself. Unit
// files run two at a time (package.json's tap `jobs`); a file of the other suites runs alone
// (`--serial`), since what it measures over the network (load, latency goals, timeouts) would
// share the machine's two cores with another test's work.
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { projectRoot } from '../src/project.js'

const SUITES = ['unit', 'process', 'browser', 'all'] as const
type Suite = typeof SUITES[number]

function suiteOf (source: string): Exclude<Suite, 'all'> {
  if (/from 'playwright-core'|from '[./]*browser\.js'/.test(source)) return 'browser'
  if (/from '[./]*server-process\.js'|from 'node:child_process'/.test(source)) return 'process'
  return 'unit'
}

const suite = process.argv[2] as Suite
if (!SUITES.includes(suite)) {
  console.error(`usage: test-suites ${SUITES.join('|')}`)
  process.exit(2)
}
const names = (await readdir(join(projectRoot, 'test'), { recursive: true }))
  .filter(name => name.endsWith('.test.ts'))
  .sort()
const files = await Promise.all(names.map(async name => {
  const file = relative(projectRoot, join(projectRoot, 'test', name))
  return { file, suite: suiteOf(await readFile(join(projectRoot, file), 'utf8')) }
}))
const listed = suite === 'all'
  ? files.map(({ file, suite }) => suite === 'unit' ? file : `${file} --serial=${file}`)
  : files.filter(file => file.suite === suite).map(({ file }) => file)
console.log(listed.join('\n'))
