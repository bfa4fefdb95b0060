// A benchmark given a flag it does not know stops before any work, with the usage line, and fails.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { projectRoot } from '../../src/project.js'

t.test('bench:startup refuses --smok with its usage line', async t => {
  const run = promisify(execFile)(process.execPath, ['--import=./test/ts-loader.mjs', join('bench', 'startup.ts'), '--smok'], { cwd: projectRoot })
  const failed = await run.then(() => undefined, (error: unknown) => error as { code: number, stdout: string, stderr: string })
  t.ok(failed, 'the command failed')
  t.equal(failed?.code, 1)
  t.equal(failed?.stdout, '', 'nothing was measured')
  t.match(failed?.stderr, /^Unknown option '--smok'[^\n]*\nUsage: npm run bench:startup -- \[--rounds rounds\]\n$/)
})
