// The pool's db.client.connection.* metrics, read from the pool at each scrape (server PostgreSQL;
// PGlite has no pool and serves none).
import t from 'tap'
import { buildTestApp, engines } from '../helper.js'

function samples (text: string, name: string): Array<{ labels: string, value: number }> {
  return text.split('\n').filter(line => line.startsWith(`${name}{`)).map(line => ({ labels: line.slice(name.length, line.lastIndexOf(' ')), value: Number(line.slice(line.lastIndexOf(' ') + 1)) }))
}

for (const engine of engines()) {
  t.test(`${engine.name}: the pool's connections by state, its waiting requests and its size`, async t => {
    const database = await engine.open(t)
    const app = await buildTestApp(t, {}, { database })
    const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body
    if (engine.name === 'pglite') {
      t.same(samples(await scrape(), 'db_client_connection_count'), [], 'no pool, no pool metrics')
      return
    }
    // Connections the pool opens and keeps: more than one at once, so "used" and "idle" are both seen.
    await Promise.all(Array.from({ length: 3 }, async () => await app.db.query('SELECT pg_sleep(0.05)')))
    const text = await app.db.transaction(async tx => {
      await tx.query('SELECT 1')
      return await scrape()
    })
    const count = samples(text, 'db_client_connection_count')
    const used = count.find(sample => sample.labels.includes('db_client_connection_state="used"'))
    const idle = count.find(sample => sample.labels.includes('db_client_connection_state="idle"'))
    // The scrape's other observers (active sessions, users) may hold connections of their own meanwhile.
    t.ok(used !== undefined && used.value >= 1, 'the transaction holds a connection')
    // At least three: the app's own start-up work (the console filling its scrubbed copies) may
    // have opened one more beside the three queries above.
    t.ok(used!.value + idle!.value >= 3, `the three the pool opened are each used or idle (${used!.value} + ${idle!.value})`)
    t.match(used?.labels, /db_client_connection_pool_name="[^"]+:\d+\/parley_test_[0-9a-f]+"/, 'the pool is named host:port/database')
    t.notOk(text.includes('root@'), 'never with the user')
    t.same(samples(text, 'db_client_connection_max').map(sample => sample.value), [5])
    t.same(samples(text, 'db_client_connection_pending_requests').map(sample => sample.value), [0])
  })
}
