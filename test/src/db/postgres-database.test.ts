// The server PostgreSQL's connection pool: a statement that waited for a connection is sent in its
// caller's async context, not in that of the request that gave the connection back (pool.query's
// callback is). The context is what tracing parents a statement's span on (pg's instrumentation
// reads it when Client#query is called): in another's, the span hung under an ended trace.
import { AsyncLocalStorage } from 'node:async_hooks'
import pg from 'pg'
import t from 'tap'
import { openPostgresDatabase } from '../../../src/db/postgres-database.js'
import { createServerDatabase } from '../../helper.js'

const serverUrl = process.env.TEST_DATABASE_URL ?? ''

t.test('a statement that waited for a connection is sent in its own caller\'s context', { skip: serverUrl === '' ? 'TEST_DATABASE_URL is not set' : false }, async t => {
  const scratch = await createServerDatabase(serverUrl)
  t.teardown(scratch.drop)
  const db = await openPostgresDatabase(scratch.url, 1)
  t.teardown(() => db.close())
  const caller = new AsyncLocalStorage<string>()
  const sentFrom: Array<[string, string | undefined]> = []
  const query = pg.Client.prototype.query
  // Only records who sends what; the statement is sent as ever.
  pg.Client.prototype.query = function (this: pg.Client, ...args: Parameters<typeof query>) {
    if (typeof args[0] === 'string') sentFrom.push([args[0], caller.getStore()])
    return query.apply(this, args)
  } as typeof query
  t.teardown(() => { pg.Client.prototype.query = query })

  // One connection: the second request's statement waits until the first gives it back.
  await Promise.all([
    caller.run('first', async () => await db.query("SELECT pg_sleep(0.2), 'first'")),
    caller.run('second', async () => await db.query("SELECT 'second'"))
  ])
  t.same(sentFrom.filter(([sql]) => sql.includes("'")), [["SELECT pg_sleep(0.2), 'first'", 'first'], ["SELECT 'second'", 'second']])
})
