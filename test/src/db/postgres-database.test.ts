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
    const statement = args[0] as string | pg.QueryConfig
    sentFrom.push([typeof statement === 'string' ? statement : statement.text, caller.getStore()])
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

t.test('a named statement is prepared once per connection and run again by name', { skip: serverUrl === '' ? 'TEST_DATABASE_URL is not set' : false }, async t => {
  const scratch = await createServerDatabase(serverUrl)
  t.teardown(scratch.drop)
  const db = await openPostgresDatabase(scratch.url, 1)
  t.teardown(() => db.close())
  for (const n of [1, 2, 3]) t.same((await db.query('SELECT $1::int AS n', [n], { name: 'parley_test_n' })).rows, [{ n }])
  await db.query('SELECT $1::int AS m', [1])
  // One connection: the pool's, on which the statements above ran.
  const { rows } = await db.query<{ name: string, statement: string }>('SELECT name, statement FROM pg_prepared_statements ORDER BY name')
  t.same(rows, [{ name: 'parley_test_n', statement: 'SELECT $1::int AS n' }], 'prepared under its name; an unnamed statement is not kept')
})
