// Who did what to the bot's data: administrative actions and refused credentials, kept in the
// database so they survive restarts and can be queried next to the sessions they touch.
import type { Queryable } from '../db/database.js'

export interface AuditEvent {
  /** Key id of the caller (never the key itself), or "anonymous". */
  actor: string
  action: string
  target?: string
  result: 'success' | 'failure' | 'denied'
  details?: Record<string, unknown>
}

export class AuditTrail {
  private readonly db: Queryable
  private readonly now: () => Date

  constructor (options: { db: Queryable, now?: () => Date }) {
    this.db = options.db
    this.now = options.now ?? (() => new Date())
  }

  /** Records an event; pass the transaction of the action so both commit, or neither. */
  async record (event: AuditEvent, db: Queryable = this.db): Promise<void> {
    await db.query('INSERT INTO audit_events (at, actor, action, target, result, details) VALUES ($1, $2, $3, $4, $5, $6)',
      [this.now(), event.actor, event.action, event.target ?? null, event.result, JSON.stringify(event.details ?? {})])
  }
}
