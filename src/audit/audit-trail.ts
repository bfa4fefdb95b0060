// Who did what to the bot's data: administrative actions and refused credentials. Each event is
// kept twice: in the database, next to the sessions and documents it touches, and as a line of
// the hash-chained audit log, which an operator can verify without trusting the database.
import type { Logger } from 'pino'
import type { Database, Queryable } from '../db/database.js'
import { log } from '../logging/log-context.js'

export interface AuditEvent {
  /** Key id of the caller (never the key itself), or "anonymous". */
  actor: string
  action: string
  target?: string
  result: 'success' | 'failure' | 'denied'
  details?: Record<string, unknown>
}

/** Records an event inside the transaction that AuditTrail.transaction runs. */
export type RecordInTransaction = (event: AuditEvent) => Promise<void>

export class AuditTrail {
  private readonly db: Queryable
  private readonly now: () => Date
  private readonly auditLog: Logger | undefined

  /** auditLog: the logger of audit entries (see createAuditLogger); the current module logger if omitted. */
  constructor (options: { db: Queryable, now?: () => Date, auditLog?: Logger }) {
    this.db = options.db
    this.now = options.now ?? (() => new Date())
    this.auditLog = options.auditLog
  }

  /** Records an event that stands alone (a refused key, a log-level change). */
  async record (event: AuditEvent): Promise<void> {
    const at = await this.insert(event, this.db)
    this.writeLine(event, at)
  }

  /**
   * Runs fn in a transaction of db, its events stored with the change they describe (both commit
   * or neither) and written to the audit log only once committed, so the log never claims a
   * change that was rolled back.
   */
  async transaction<T> (db: Database, fn: (tx: Queryable, record: RecordInTransaction) => Promise<T>): Promise<T> {
    const committed: Array<[AuditEvent, Date]> = []
    const result = await db.transaction(async tx => await fn(tx, async event => {
      committed.push([event, await this.insert(event, tx)])
    }))
    for (const [event, at] of committed) this.writeLine(event, at)
    return result
  }

  private async insert (event: AuditEvent, db: Queryable): Promise<Date> {
    const at = this.now()
    await db.query(
      'INSERT INTO audit_events (at, actor, action, target, result, details) VALUES ($1, $2, $3, $4, $5, $6)',
      [at, event.actor, event.action, event.target ?? null, event.result, JSON.stringify(event.details ?? {})]
    )
    return at
  }

  private writeLine (event: AuditEvent, at: Date): void {
    const logger = this.auditLog ?? log('audit', 'record')
    logger.info({
      at: at.toISOString(),
      actor: event.actor,
      action: event.action,
      target: event.target,
      result: event.result,
      details: event.details
    }, `${event.action} ${event.result}`)
  }
}
