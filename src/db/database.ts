// One small interface over the two engines that run the same schema: embedded PGlite by default,
// server PostgreSQL (through a pg pool) when several instances must share state.
export interface QueryResult<R> {
  rows: R[]
  rowCount: number
}

export interface StatementOptions {
  /**
   * Names a statement that runs on every turn: the engine then parses it once per connection (per
   * PGlite instance), not at every execution (about a fifth of a turn's database time on server
   * PostgreSQL, half the turn's two statements' on PGlite). Only for a constant text with
   * its columns listed (no SELECT *: a column added by a migration would break the other
   * instances' prepared plans). PGlite's query() has no names: src/db/pglite-database.ts sends the
   * wire protocol's Parse and Bind itself.
   */
  name?: string
}

export interface Queryable {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: StatementOptions
  ): Promise<QueryResult<R>>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface Database extends Queryable {
  readonly engine: 'pglite' | 'postgres'
  /** Runs fn in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. If the subscription
   * is lost and restored, notifications in between are gone: onResubscribed tells the caller to
   * resynchronise.
   */
  listen(
    channel: string,
    onNotification: (payload: string) => void,
    onResubscribed?: () => void
  ): Promise<() => Promise<void>>
  close(): Promise<void>
  /** The connection pool by state (server PostgreSQL only; PGlite has one embedded connection). */
  poolStats?(): { total: number, idle: number, waiting: number }
  /** The pool's name as the semantic conventions' metrics label it (host:port/database) and its size. */
  readonly pool?: { name: string, max: number }
}
