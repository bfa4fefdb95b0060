// The log files' main-thread side, in a process of its own (this test is about how a process
// ends): a line logged just before process.exit() is in chatbot.log, though lines reach the log
// worker in batches.
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { projectRoot } from '../../../src/project.js'
import { logFileLines } from '../../helper.js'

const run = promisify(execFile)

t.test('a line logged just before process.exit() reaches chatbot.log', async t => {
  const dir = t.testdir()
  const dist = new URL('dist/src/logging/', `file://${projectRoot}/`).href
  const child = `
    const { openLogDestinations } = await import(${JSON.stringify(`${dist}log-destinations.js`)})
    const { createLogger } = await import(${JSON.stringify(`${dist}logger.js`)})
    const destinations = openLogDestinations({ dir: process.argv[2], maxSize: '10m', frequency: 'daily', pretty: false, stdout: false, checkIntervalMs: 1000, service: 'parley' })
    const logger = createLogger({ level: 'info', service: 'parley', version: '0', env: 'test', destination: destinations.stream })
    logger.info('written a while before')
    setTimeout(() => {
      logger.info('the last words')
      process.exit(3)
    }, 200)
  `
  const script = join(dir, 'exits.mjs')
  await writeFile(script, child)
  const exit = await run(process.execPath, [script, dir]).then(() => 0, (error: { code?: number }) => error.code)
  t.equal(exit, 3, 'the process exited as it was told')
  const messages = (await logFileLines(dir, 'chatbot')).map(line => (JSON.parse(line) as { msg: string }).msg)
  t.same(messages, ['written a while before', 'the last words'])
})
