// The router that pino's worker runs, driven here in the test's own thread: which line goes to
// which file, and an audit.log that fails and comes back with the gap recorded in its chain.
import t from 'tap'
import { once } from 'node:events'
import { rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { verifyAuditChain } from '../../../src/logging/audit-chain.js'
import { listLogFiles, readLogLines, type LogFamily } from '../../../src/logging/log-files.js'
import logRouter from '../../../src/logging/log-router.js'
import { logFileLines } from '../../helper.js'

async function router (dir: string) {
  const stream = await logRouter({ dir, maxSize: '100m', frequency: 'daily', pretty: false, stdout: false, checkIntervalMs: 50, service: 'parley' })
  return {
    write: (entry: Record<string, unknown>) => stream.write(JSON.stringify(entry) + '\n'),
    close: async () => {
      stream.end()
      await once(stream, 'close')
    }
  }
}

async function messages (dir: string, family: LogFamily): Promise<unknown[]> {
  return (await logFileLines(dir, family)).map(line => (JSON.parse(line) as { msg: unknown }).msg)
}

t.test('every line to chatbot.log, error and fatal to error.log, audit entries to audit.log', async t => {
  const dir = t.testdir()
  const log = await router(dir)
  for (const level of ['debug', 'info', 'warn', 'error', 'fatal', 'audit']) log.write({ level, time: new Date().toISOString(), msg: `a ${level} line` })
  await log.close()
  t.same(await messages(dir, 'chatbot'), ['a debug line', 'a info line', 'a warn line', 'a error line', 'a fatal line', 'a audit line'])
  t.same(await messages(dir, 'error'), ['a error line', 'a fatal line'])
  t.same(await messages(dir, 'audit'), ['a audit line'])
})

t.test('audit entries lost while audit.log is gone leave an audit.gap entry, and the chain stays verifiable', async t => {
  const dir = t.testdir()
  let log = await router(dir)
  log.write({ level: 'audit', time: new Date().toISOString(), action: 'first', msg: 'yesterday' })
  await log.close()
  const [yesterdays] = await listLogFiles(dir, 'audit')
  await rename(yesterdays!.path, join(dir, 'audit.2000-01-01.1.log'))

  log = await router(dir)
  await unlink((await listLogFiles(dir, 'audit')).at(-1)!.path) // today's, the one being written
  // Writes go on while the removal is noticed and the file reopened (every 50 ms here).
  for (let i = 0; i < 40; i++) {
    log.write({ level: 'audit', time: new Date().toISOString(), action: 'lost', msg: `entry ${i}` })
    await sleep(5)
  }
  await sleep(200)
  log.write({ level: 'audit', time: new Date().toISOString(), action: 'last', msg: 'after the recovery' })
  await log.close()

  const entries: Array<{ action: string, details?: { dropped: number } }> = []
  for (const file of await listLogFiles(dir, 'audit')) {
    for await (const line of readLogLines(file.path)) if (line !== '') entries.push(JSON.parse(line) as typeof entries[number])
  }
  // Entries written after the recovery ("lost" ones too) follow the gap.
  const actions = entries.map(entry => entry.action).filter(action => action !== 'lost')
  t.same(actions, ['first', 'audit.gap', 'last'], 'what is on disk, with the gap in its place')
  const gap = entries.find(entry => entry.action === 'audit.gap')
  t.ok((gap?.details?.dropped ?? 0) >= 1, `the gap counts the entries dropped (${String(gap?.details?.dropped)})`)
  const report = await verifyAuditChain([dir])
  t.equal(report.intact, true, 'the chain is intact across the gap')
  t.equal(report.start?.genesis, true, 'and starts at the genesis, in the older file')
})
