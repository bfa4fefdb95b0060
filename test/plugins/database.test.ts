// The database plugin's upkeep of the embedded database it opens: vacuumed when the app is ready
// (and every 15 seconds after), checkpointed when due (asked every 5 seconds), logged; a database
// lent to the app is left to its owner.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { buildTestApp, memoryLogger, migratedDataDir, testConfig } from '../helper.js'

t.test('the embedded database the app opens is vacuumed when the app is ready', async t => {
  const { records, logger } = memoryLogger()
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'debug' }), logger })
  t.teardown(() => app.close())
  await app.ready()
  const vacuumed = records().filter(line => line.msg === 'database vacuumed')
  t.equal(vacuumed.length, 1, 'once, at start')
  t.match(vacuumed[0], { module: 'database', fn: 'upkeep', duration_ms: Number })
})

t.test('the embedded database the app opens is checkpointed when the upkeep finds it due', async t => {
  const { records, logger } = memoryLogger()
  // Five minutes on, the first start's writes (the bundled guides) are due a checkpoint.
  const clock = () => new Date(Date.now() + 10 * 60_000)
  const config = testConfig({ LOG_LEVEL: 'debug', DATA_DIR: await migratedDataDir(t) })
  const app = await buildApp({ config, logger, clock })
  t.teardown(() => app.close())
  await app.ready()
  const checkpointed = records().filter(line => line.msg === 'database checkpointed')
  t.equal(checkpointed.length, 1, 'once, at start')
  t.match(checkpointed[0], { module: 'database', fn: 'upkeep', wal_bytes: Number, duration_ms: Number })
  t.ok(checkpointed[0]!.wal_bytes as number > 0)
})

t.test('a database lent to the app is left to its owner', async t => {
  const { records, logger } = memoryLogger()
  const app = await buildTestApp(t, { LOG_LEVEL: 'debug' }, { logger })
  await app.ready()
  t.equal(records().filter(line => line.fn === 'upkeep').length, 0)
})
