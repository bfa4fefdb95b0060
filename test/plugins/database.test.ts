// The database plugin's upkeep of the embedded database it opens: vacuumed when the app is ready
// (and every minute after), logged; a database lent to the app is left to its owner.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { buildTestApp, memoryLogger, testConfig } from '../helper.js'

t.test('the embedded database the app opens is vacuumed when the app is ready', async t => {
  const { records, logger } = memoryLogger()
  const app = await buildApp({ config: testConfig({ LOG_LEVEL: 'debug' }), logger })
  t.teardown(() => app.close())
  await app.ready()
  const vacuumed = records().filter(line => line.msg === 'database vacuumed')
  t.equal(vacuumed.length, 1, 'once, at start')
  t.match(vacuumed[0], { module: 'database', fn: 'upkeep', duration_ms: Number })
})

t.test('a database lent to the app is left to its owner', async t => {
  const { records, logger } = memoryLogger()
  const app = await buildTestApp(t, { LOG_LEVEL: 'debug' }, { logger })
  await app.ready()
  t.equal(records().filter(line => line.fn === 'upkeep').length, 0)
})
