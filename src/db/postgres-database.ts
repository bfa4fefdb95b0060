// Server PostgreSQL through a pg pool: the scale-out engine, shared by several API instances.
import pg from 'pg'
import type { Database, Queryable, QueryResult, StatementOptions } from './database.js'

function wrap (client: pg.Pool | pg.PoolClient): Queryable {
  const run = client instanceof pg.Pool
    ? async (statement: pg.QueryConfig) => await checkedOut(client, statement)
    : async (statement: pg.QueryConfig) => await client.query(statement)
  return {
    async query<R> (sql: string, params?: unknown[], options?: StatementOptions): Promise<QueryResult<R>> {
      const result = await run({ text: sql, values: params, name: options?.name })
      return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length }
    },
    async exec (sql: string) {
      await run({ text: sql })
    }
  }
}

const ignoreLostConnection = (): void => {}

/**
 * A statement on a connection checked out for it, as pool.query does, but sent after an await:
 * pool.query sends it from the pool's callback, which, when the statement waited for a connection,
 * runs in the context of the request that released one. Its span then hung under another
 * request's trace, already ended, and under load such orphans filled the turn span collector
 * (chatbot_turn_traces_dropped_total{reason="open_traces"}), so turns lost their spans.
 */
async function checkedOut (pool: pg.Pool, statement: pg.QueryConfig): Promise<pg.QueryResult> {
  const client = await pool.connect()
  client.on('error', ignoreLostConnection)
  try {
    const result = await client.query(statement)
    client.off('error', ignoreLostConnection)
    client.release()
    return result
  } catch (error) {
    client.off('error', ignoreLostConnection)
    // As pool.query does: a client whose statement failed is discarded, in case its connection is what failed.
    client.release(error as Error)
    throw error
  }
}

/** host:port/database, as pg's instrumentation names pools: never the user or the password. */
function poolName (connectionString: string): string {
  const { host, port, database } = pg.defaults
  const url = new URL(connectionString)
  const name = url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : database
  return `${url.hostname === '' ? host : url.hostname}:${url.port === '' ? port : url.port}/${name}`
}
const CONNECT_TIMEOUT_MS = 2000

export async function openPostgresDatabase (connectionString: string, poolSize: number): Promise<Database> {
  // A database that does not answer fails a request within seconds rather than holding it (and
  // its caller) forever: pg waits for a connection without limit by default.
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true
  })
  // An idle client that loses its server connection emits 'error' on the pool; without a
  // listener that would crash the process, and the pool replaces the client on next use anyway.
  pool.on('error', () => {})
  await pool.query('SELECT 1') // fail fast on a wrong URL instead of on the first request
  const queryable = wrap(pool)
  const unsubscribers = new Set<() => Promise<void>>()

  return {
    engine: 'postgres',
    ...queryable,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    pool: { name: poolName(connectionString), max: poolSize },
    async transaction<T> (fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect()
      // A connection lost while checked out emits 'error' on its client, which the pool listens to
      // only while the client is idle: unheard, it would end the process. The query in flight
      // fails with it, and the broken client is discarded below.
      client.on('error', ignoreLostConnection)
      let result: T
      try {
        await client.query('BEGIN')
        result = await fn(wrap(client))
        await client.query('COMMIT')
      } catch (error) {
        // A client whose ROLLBACK failed is broken: release(error) makes the pool discard it.
        const broken = await client.query('ROLLBACK').then(() => undefined, (rollbackError: Error) => rollbackError)
        client.off('error', ignoreLostConnection)
        client.release(broken)
        throw error
      }
      client.off('error', ignoreLostConnection)
      client.release()
      return result
    },
    async listen (channel, onNotification, onResubscribed) {
      let client: pg.Client | undefined
      let stopped = false
      // LISTEN needs a connection of its own that stays open, outside the pool.
      const subscribe = async (): Promise<void> => {
        const next = new pg.Client({ connectionString })
        next.on('error', () => {}) // 'end' follows, and is where the loss is handled
        next.on('notification', message => {
          if (message.channel === channel) onNotification(message.payload ?? '')
        })
        await next.connect()
        await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
        next.on('end', () => { if (!stopped) resubscribe(250) })
        client = next
      }
      const resubscribe = (delayMs: number): void => {
        setTimeout(() => {
          if (stopped) return
          subscribe().then(() => onResubscribed?.(), () => resubscribe(Math.min(delayMs * 2, 30_000)))
        }, delayMs).unref()
      }
      const unsubscribe = async (): Promise<void> => {
        stopped = true
        unsubscribers.delete(unsubscribe)
        await client?.end()
      }
      await subscribe()
      unsubscribers.add(unsubscribe)
      return unsubscribe
    },
    async close () {
      await Promise.all([...unsubscribers].map(unsubscribe => unsubscribe()))
      await pool.end()
    }
  }
}
