// The real server process (this test is about the network and signals, so it listens on a port):
// SIGTERM lets in-flight turns finish, then exits 0 with the database closed.
import t from 'tap'
import { createServerDatabase, waitFor } from '../helper.js'
import { startServer } from '../server-process.js'

const serverUrl = process.env.TEST_DATABASE_URL
for (const engine of serverUrl === undefined || serverUrl === '' ? ['pglite'] : ['pglite', 'postgres']) {
  t.test(`${engine}: SIGTERM finishes in-flight turns and exits 0`, async t => {
    const database = engine === 'postgres' ? await createServerDatabase(serverUrl!) : undefined
    if (database !== undefined) t.teardown(() => database.drop())
    const server = await startServer(t, database === undefined ? {} : { DATABASE_URL: database.url })
    const turns = Array.from({ length: 20 }, (_, i) => fetch(`${server.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: `how do I configure the port? (${i})` })
    }))
    // SIGTERM once every turn is inside the server (queued on the database), not still connecting.
    const received = () => server.stdout().split('"msg":"chat.message_received"').length - 1
    await waitFor(() => received() >= turns.length, 10_000, 10)
    const exited = server.stop('SIGTERM')
    const statuses = (await Promise.allSettled(turns)).map(r => r.status === 'fulfilled' ? r.value.status : 'refused')
    t.equal(await exited, 0, 'exit code 0')
    t.notOk(statuses.includes(500), 'no turn failed because of the shutdown')
    t.ok(statuses.filter(s => s === 200).length > 1, `turns in flight at SIGTERM completed: ${statuses.join(' ')}`)
    t.notOk(statuses.includes('refused'), 'no connection was cut')
    t.match(server.stdout(), /"signal":"SIGTERM","msg":"shutting down"/)
    t.match(server.stdout(), /"msg":"shut down"/, 'the shutdown ran to its end rather than being cut short by SHUTDOWN_TIMEOUT')
  })
}
