// Where a CLI that writes (kb:import, kb:evaluate, erase) does its work: the database the server's
// settings name, opened by the CLI itself while the server is stopped, or the running server, as
// an admin. Each CLI says in its own words what it cannot do; the opening and the calling are one.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { DataDirLockedError } from '../db/data-dir-lock.js'
import type { Database } from '../db/database.js'
import { openDatabase } from '../db/open-database.js'

/** What stops a CLI, said to its user: its message is the whole answer (exit 2). */
export class CliError extends Error { override name = 'CliError' }

export interface ConfiguredDatabase { config: Config, db: Database, description: string }

interface Opening {
  /** Why DATA_DIR=memory:// is no use to this CLI. */
  inMemory: string
  /** How this CLI goes through the running server, in place of the lock's own way (an import through its API). */
  whenLocked?: string
  /**
   * Set by a CLI that only reads or removes: an embedded database that does not exist yet is a
   * wrong DATA_DIR, not one to create (kb:evaluate once made an empty one in ./data and reported
   * "20 questions against 0 documents"). Added to the message that says so.
   */
  whenMissing?: string
}

/** The database the settings in `env` name. */
export async function openConfiguredDatabase (
  env: Record<string, string | undefined>,
  { inMemory, whenLocked = '', whenMissing }: Opening
): Promise<ConfiguredDatabase> {
  let config
  try {
    config = loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message)
    throw error
  }
  if (config.DATABASE_URL === '' && config.DATA_DIR.startsWith('memory://')) {
    throw new CliError(`DATA_DIR=memory:// ${inMemory}`)
  }
  const dataDir = resolve(config.DATA_DIR)
  if (config.DATABASE_URL === '' && whenMissing !== undefined && !existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new CliError(`there is no database in ${dataDir} (DATA_DIR): ${whenMissing}`)
  }
  let db
  try {
    db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir, poolSize: 2 })
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      throw new CliError(whenLocked === '' ? error.message : `${error.inUse}. ${whenLocked}`)
    }
    throw new CliError(`could not open the database: ${(error as Error).message}`)
  }
  const description = db.engine === 'pglite'
    ? `the embedded database in ${dataDir}`
    : 'the PostgreSQL database at DATABASE_URL'
  return { config, db, description }
}

/** A route of the server given with --url, called with the admin key in PARLEY_API_KEY. */
export interface AdminEndpoint {
  endpoint: URL
  /** POSTs `body` as JSON: the response and its JSON (an empty object if it has none). */
  post: <T>(body: unknown) => Promise<{ response: Response, answer: T & { detail?: string, title?: string } }>
  /** What a refused or failed answer tells the user. */
  refused: (response: Response, answer: { detail?: string, title?: string }) => CliError
}

export function adminEndpoint (url: string, path: string, env: Record<string, string | undefined>): AdminEndpoint {
  // From the environment, not an option: a key on the command line is in `ps` and the shell's history.
  const apiKey = env.PARLEY_API_KEY ?? ''
  if (apiKey === '') throw new CliError('PARLEY_API_KEY must hold an admin key of the server given with --url.')
  let endpoint: URL
  try {
    endpoint = new URL(path, new URL(url))
  } catch {
    throw new CliError(`--url ${url} is not a URL (for example http://127.0.0.1:3000).`)
  }
  const unreachable = (error: Error & { cause?: { code?: string } }): never => {
    throw new CliError(
      `could not reach ${endpoint.origin} (${error.cause?.code ?? error.message}); is the server running?`
    )
  }
  return {
    endpoint,
    post: async <T>(body: unknown) => {
      const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }
      const response = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(body) }).catch(unreachable)
      return { response, answer: await response.json().catch(() => ({})) as T & { detail?: string, title?: string } }
    },
    refused: (response, answer) => {
      const why = `${response.status} ${answer.detail ?? answer.title ?? response.statusText}`
      if (response.status === 401 || response.status === 403) {
        return new CliError(
          `the server refused the key (${why}); PARLEY_API_KEY must be an admin key of ${endpoint.origin}`
        )
      }
      return new CliError(`${endpoint.origin} answered ${why}`)
    }
  }
}
