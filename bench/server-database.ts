// A throwaway database on the PostgreSQL server, so benchmarks and tests never touch real data,
// never collide with a concurrent run, and leave nothing behind.
import { randomUUID } from 'node:crypto'
import pg from 'pg'

export interface ScratchDatabase {
  url: string
  /** The database's name, as PostgreSQL's process titles show it. */
  name: string
  /** The server's version string, for the report. */
  version: string
  /**
   * Ends its connections and renames it, so that every connection to it fails as one to a
   * database that is down (bench:profile --refusals); drop() drops it under either name.
   */
  takeAway: () => Promise<void>
  drop: () => Promise<void>
}

async function withClient<T> (url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  // An unreachable server should be a quick notice, not a long hang.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function createScratchDatabase (serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '')}`
  const version = await withClient(serverUrl, async client => {
    await client.query(`CREATE DATABASE ${name}`)
    const { rows } = await client.query<{ version: string }>("SELECT split_part(version(), ' ', 2) AS version")
    return rows[0]?.version ?? 'unknown'
  })
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const away = `${name}_away`
  return {
    url: url.toString(),
    name,
    version,
    takeAway: () => withClient(serverUrl, async client => {
      // A database is renamed only with no one connected, and its users' pools reconnect at once.
      for (let attempt = 1; ; attempt++) {
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name])
        try {
          await client.query(`ALTER DATABASE ${name} RENAME TO ${away}`)
          return
        } catch (error) {
          if (attempt === 100) throw error
          await new Promise(resolve => setTimeout(resolve, 20))
        }
      }
    }),
    drop: () => withClient(serverUrl, async client => {
      for (const database of [name, away]) await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    })
  }
}
