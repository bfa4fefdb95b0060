// Server PostgreSQL through a pg pool: the scale-out engine, shared by several API instances.
import pg from 'pg'
import type { Database, Queryable, QueryResult } from './database.js'

function wrap (client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R> (sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const result = await client.query(sql, params)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length }
    },
    async exec (sql: string) {
      await client.query(sql)
    }
  }
}

export async function openPostgresDatabase (connectionString: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: poolSize })
  // An idle client that loses its server connection emits 'error' on the pool; without a
  // listener that would crash the process, and the pool replaces the client on next use anyway.
  pool.on('error', () => {})
  await pool.query('SELECT 1') // fail fast on a wrong URL instead of on the first request
  const queryable = wrap(pool)
  const listeners: pg.Client[] = []

  return {
    engine: 'postgres',
    ...queryable,
    async transaction (fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await fn(wrap(client))
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        throw error
      } finally {
        client.release()
      }
    },
    async listen (channel, onNotification) {
      // LISTEN needs a connection of its own that stays open, outside the pool.
      const client = new pg.Client({ connectionString })
      client.on('error', () => {})
      await client.connect()
      client.on('notification', message => {
        if (message.channel === channel) onNotification(message.payload ?? '')
      })
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
      listeners.push(client)
      return async () => {
        listeners.splice(listeners.indexOf(client), 1)
        await client.end()
      }
    },
    async close () {
      await Promise.all(listeners.splice(0).map(client => client.end()))
      await pool.end()
    }
  }
}
