// Sessions are rows in the shared database, so any API instance can resume any session and the
// caps hold across instances. Time comes from an injected clock so expiry is testable.
import { createHmac, randomUUID } from 'node:crypto'
import type { AuditTrail, RecordInTransaction } from '../audit/audit-trail.js'
import type { Decision, Generation, ReplyKind, Source } from '../transcript/transcript-schemas.js'
import type { Database, Queryable } from '../db/database.js'
import { ErasedError, LimitExceededError, NotFoundError } from '../errors.js'
import { log } from '../logging/log-context.js'
import { scrubbedCopy } from '../logging/scrubber.js'
import type { Instruments } from '../telemetry/metrics.js'
import { SessionReads } from './session-reads.js'

// replaced: ended to make room for a new one: its user's least recently used past
// MAX_SESSIONS_PER_USER, or the service's longest idle at MAX_ACTIVE_SESSIONS.
export const SESSION_STATUSES = ['active', 'expired', 'reset', 'replaced'] as const
export type SessionStatus = typeof SESSION_STATUSES[number]

const WHY_ENDED: Record<Exclude<SessionStatus, 'active'>, string> = {
  expired: 'it expired (idle for SESSION_IDLE_TIMEOUT, or older than SESSION_MAX_AGE)',
  reset: 'it was reset (/reset), and the conversation went on in a new session',
  replaced: 'it was replaced by a newer session of its user, who keeps at most MAX_SESSIONS_PER_USER ' +
    '(the least recently used ends first), or, the service being full (MAX_ACTIVE_SESSIONS), ' +
    'as the session idle longest'
}

// Who the audit trail names for what the service does by its own policy.
const SERVICE_ACTOR = 'parley'
// At MAX_ACTIVE_SESSIONS, a session idle this long may end to make room for a new one.
const MIN_IDLE_TO_REPLACE_MS = 60_000
// Held by whoever opens a session, until its transaction ends: the caps are checked one opening at
// a time, and an erasure of a user holds it so that no session of theirs is opened meanwhile.
const SESSION_CAPS_LOCK = "SELECT pg_advisory_xact_lock(hashtext('parley.session-caps'))"

// The columns a turn's two messages fill, in the order recordTurn and recordTurns give them.
const MESSAGE_COLUMNS = 'session_id, turn, role, content, kind, command, sources, top_score, latency_ms, ' +
  'context_turn, created_at, trace_id, generation, search_text, decision'

/** A turn refused because its session ended while it was answered. */
export const endedMeanwhile = (id: string): NotFoundError =>
  new NotFoundError('Session', id, `Session ${id} ended while this turn was being handled; start a new one.`)

// A turn's values as its statement binds them: the user's text, the reply, its kind, command, sources,
// top score, latency, context turn, trace id, generation, both texts' scrubbed copies and the decision.
const TURN_VALUES = [
  (m: TurnMessages) => m.userText, (m: TurnMessages) => m.reply, (m: TurnMessages) => m.kind,
  (m: TurnMessages) => m.command, (m: TurnMessages) => JSON.stringify(m.sources), (m: TurnMessages) => m.topScore,
  (m: TurnMessages) => m.latencyMs, (m: TurnMessages) => m.contextTurn ?? null, (m: TurnMessages) => m.traceId ?? null,
  (m: TurnMessages) => m.generation === undefined ? null : JSON.stringify(m.generation),
  (m: TurnMessages) => scrubbedCopy(m.userText), (m: TurnMessages) => scrubbedCopy(m.reply),
  (m: TurnMessages) => m.decision === undefined ? null : JSON.stringify(m.decision)
] as const
const turnValues = (messages: TurnMessages): unknown[] => TURN_VALUES.map(value => value(messages))

/** A session's turn, as recordTurns stores several. */
export interface SessionTurn { id: string, messages: TurnMessages }

/** Both sides of a turn, as recordTurn stores them. */
export interface TurnMessages {
  userText: string
  reply: string
  kind: ReplyKind
  command: string | null
  sources: Source[]
  topScore: number | null
  latencyMs: number
  /** A follow-up question's context: the turn whose question it was searched with. */
  contextTurn?: number
  /** The turn's trace (its row in turn_traces), on both messages; none when the turn was not traced. */
  traceId?: string | null
  /** How an answer was written, when a language model is configured (on the bot's message). */
  generation?: Generation
  /** Why a question was answered or refused (on the bot's message). */
  decision?: Decision
}

export interface Session {
  id: string
  userId: string | null
  /**
   * Who opened it: an API key's id (key:…), or, without a key, a keyed hash of the client's address
   * (address:…); see create.
   */
  openedBy: string | null
  status: SessionStatus
  turnCount: number
  createdAt: Date
  lastActivityAt: Date
  endedAt: Date | null
  /** When the session expires if nothing else happens (idle timeout or absolute age, whichever is first). */
  expiresAt: Date
}

/**
 * Who opens a session, as create() compares it: the API key's id, or, for a caller without a key,
 * its address hashed under a key of the server's (an address is personal data; equality is all
 * that is needed).
 */
export function openerOf (keyId: string | undefined, address: string, key: Buffer): string {
  return keyId !== undefined
    ? `key:${keyId}`
    : `address:${createHmac('sha256', key).update(address).digest('base64url').slice(0, 22)}`
}

export interface SessionLimits {
  idleTimeoutMs: number
  maxAgeMs: number
  maxActive: number
  maxPerUser: number
}

interface SessionRow {
  id: string
  user_id: string | null
  opened_by: string | null
  status: SessionStatus
  turn_count: number
  created_at: Date
  last_activity_at: Date
  ended_at: Date | null
}
/** SessionRow's columns, listed: a named statement must not read SELECT * (StatementOptions). */
const SESSION_COLUMNS = 'id, user_id, opened_by, status, turn_count, created_at, last_activity_at, ended_at'

// A session counts as active only while it is inside both time limits, even before the sweeper
// has marked it: $1 is the idle cut-off, $2 the age cut-off.
// `row` names the sessions row where a statement joins it to another ("s.").
const activeSession = (row = ''): string =>
  `${row}status = 'active' AND ${row}last_activity_at > $1 AND ${row}created_at > $2`
const ACTIVE = activeSession()
// What a session that ends leaves for the session metrics: how long it was in use, and its turns.
const ENDED = 'extract(epoch FROM last_activity_at - created_at) AS active_seconds, turn_count'
interface EndedSession { active_seconds: number | string, turn_count: number }

export interface SessionManagerOptions {
  db: Database
  limits: SessionLimits
  auditTrail: AuditTrail
  instruments?: Pick<Instruments, 'sessionDuration' | 'sessionTurns'>
  now?: () => Date
  /** A user's pseudonym (LogPrivacy.pseudonym), by which erased users are remembered; without it, none are checked. */
  pseudonym?: (userId: string) => string
}

/** What create() is told beside the user: the session's id, who opens it, and when the turn opening it started. */
export interface NewSession {
  id?: string
  openedBy?: string | null
  /** A turn started before its user was erased opens no session. */
  turnStartedAt?: Date
}

// Refused with 409: the user or the session was erased while the turn was answered.
const ERASED_MEANWHILE =
  'The data of this conversation\'s user was erased while this message was being answered, and ' +
  'nothing of it was kept; send it again to start a new conversation.'

/** A session an erasure deletes, with its user. */
export interface ErasedSession { id: string, userId: string | null }

export class SessionManager {
  readonly limits: SessionLimits
  private readonly db: Database
  private readonly auditTrail: AuditTrail
  private readonly instruments: Pick<Instruments, 'sessionDuration' | 'sessionTurns'> | undefined
  private readonly now: () => Date
  private readonly pseudonym: ((userId: string) => string) | undefined
  /** The turns' reads of their sessions, together when several are asked at once (SessionReads). */
  private readonly reads: SessionReads<Session>

  constructor (options: SessionManagerOptions) {
    this.db = options.db
    this.reads = new SessionReads({ one: async id => await this.get(id), many: async ids => await this.getMany(ids) })
    this.auditTrail = options.auditTrail
    this.instruments = options.instruments
    this.limits = options.limits
    this.now = options.now ?? (() => new Date())
    this.pseudonym = options.pseudonym
  }

  /**
   * Opens a session inside the caller's transaction. A user at MAX_SESSIONS_PER_USER gets it all
   * the same, and their least recently used one ends (status replaced, audited): a client that lost
   * its session ids must not lock its user out. A user id is what the caller says, so only sessions
   * the same caller opened (openedBy: the same key, or the same address without one) are counted
   * and replaced: a client that knows another's user id cannot end that user's sessions. At
   * MAX_ACTIVE_SESSIONS a long-idle session makes room, else the new one is refused (replaceLongestIdle).
   *
   * A turn answered while its user was erased (turnStartedAt before the erasure) opens no session:
   * ErasedError, and the caller's transaction rolls back. Nor does a session id that was erased.
   */
  async create (
    tx: Queryable,
    userId: string | null,
    audit: RecordInTransaction,
    opening: NewSession = {}
  ): Promise<Session> {
    const { id = randomUUID(), openedBy = null, turnStartedAt } = opening
    const now = this.now()
    // Serialises cap checks across instances; held only until the caller's transaction ends.
    await tx.query(SESSION_CAPS_LOCK)
    const full = await this.serviceFull(tx, now)
    const erasedUser = userId === null || this.pseudonym === undefined ? null : this.pseudonym(userId)
    const { rows } = await tx.query<SessionRow>(
      `INSERT INTO sessions (id, user_id, opened_by, created_at, last_activity_at)
       SELECT $1::uuid, $2::text, $3::text, $4::timestamptz, $4::timestamptz
       WHERE NOT EXISTS (SELECT 1 FROM erased_sessions WHERE session_id = $1::uuid)
         AND NOT EXISTS (SELECT 1 FROM erased_users WHERE pseudonym = $5::text AND erased_at >= $6::timestamptz)
       RETURNING *`, [id, userId, openedBy, now, erasedUser, turnStartedAt ?? now])
    if (rows[0] === undefined) {
      log('session_manager', 'create').info({ new_session_id: id }, 'session.refused_erased')
      throw new ErasedError(ERASED_MEANWHILE)
    }
    const session = this.toSession(rows[0])
    // The user's own oldest goes first; only if that made no room does a stranger's idle one go.
    const replaced = userId === null ? 0 : await this.replaceLeastRecentlyUsed(tx, now, session, audit)
    if (full && replaced === 0) await this.replaceLongestIdle(tx, now, session, audit)
    // Logged once nothing can refuse it any more (a refusal rolls the insert back).
    log('session_manager', 'create').info(
      { new_session_id: session.id, expires_at: session.expiresAt }, 'session.created')
    return session
  }

  /** A user's sessions, the most recently used first; all of them without a limit. */
  async listByUser (userId: string, limit?: number): Promise<Session[]> {
    const { rows } = await this.db.query<SessionRow>(
      'SELECT * FROM sessions WHERE user_id = $1 ORDER BY last_activity_at DESC, id LIMIT $2',
      [userId, limit ?? null])
    return rows.map(row => this.toSession(row))
  }

  /** The active session with this id, or NotFoundError if it is unknown, ended, expired or someone else's. */
  async resume (id: string, userId: string | null): Promise<Session> {
    const session = await this.reads.get(id)
    const someoneElses = session !== undefined && userId !== null &&
      session.userId !== null && session.userId !== userId
    if (session === undefined || session.status !== 'active' || someoneElses) {
      log('session_manager', 'resume').info(
        { found: session !== undefined, status: session?.status }, 'session.not_resumable')
      // Why it ended tells the client what to do (a replaced one was a session too many); another
      // user's session is not said to exist.
      const why = session === undefined || someoneElses
        ? 'does not exist (it was deleted, or never was)'
        : `has ended: ${WHY_ENDED[session.status as Exclude<SessionStatus, 'active'>]}`
      throw new NotFoundError('Session', id,
        `Session ${id} ${why}; send the message without session_id to start a new one.`)
    }
    log('session_manager', 'resume').debug({ turns: session.turnCount }, 'session.resumed')
    return session
  }

  /** Any session, whatever its status, for reading its record and history. */
  async get (id: string, db: Queryable = this.db): Promise<Session | undefined> {
    const { rows } = await db.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id], { name: 'session_by_id' })
    return rows[0] === undefined ? undefined : this.toSession(rows[0])
  }

  /** Sessions by id (each a UUID), whatever their status: those found, by id. */
  async getMany (ids: readonly string[]): Promise<Map<string, Session>> {
    const { rows } = await this.db.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ANY($1::uuid[])`, [ids], { name: 'sessions_by_ids' })
    return new Map(rows.map(row => [row.id, this.toSession(row)]))
  }

  /**
   * Counts a turn of an active session and stores its two messages, in one statement: atomic
   * without a transaction of its own, and one round trip. Returns the turn's number. The row lock
   * taken by the UPDATE orders concurrent turns of one session; a session that expired or ended
   * meanwhile is NotFoundError, and nothing is stored.
   *
   * The session is found by its id alone: its being active is checked on that row, written so that
   * no index can serve it. A named statement's generic plan, made once per connection, had picked
   * the index of active sessions by activity on a table not yet analysed, and each turn read every
   * active session.
   */
  async recordTurn (db: Queryable, id: string, messages: TurnMessages): Promise<number> {
    const now = this.now()
    const { rows } = await db.query<{ turn: number }>(
      `WITH counted AS (
         UPDATE sessions SET turn_count = turn_count + 1, last_activity_at = $3
         WHERE id = $4 AND (${ACTIVE}) IS TRUE RETURNING id, turn_count)
       INSERT INTO messages (${MESSAGE_COLUMNS})
       SELECT id, turn_count, 'user', $5::text, NULL, NULL, '[]'::jsonb, NULL, NULL,
         NULL, $3, $13::text, NULL, $15::text, NULL FROM counted
       UNION ALL
       SELECT id, turn_count, 'bot', $6::text, $7::text, $8::text, $9::jsonb, $10::float8, $11::float8,
         $12::int, $3, $13::text, $14::jsonb, $16::text, $17::jsonb FROM counted
       RETURNING turn`,
      [...this.cutoffs(now), now, id, ...turnValues(messages)],
      { name: 'record_turn' })
    if (rows[0] === undefined) throw endedMeanwhile(id)
    return rows[0].turn
  }

  /**
   * recordTurn for turns of several sessions, one each, in one statement: PostgreSQL's cost of a
   * turn's write is mostly the statement's, not its rows' (bench/README.md). Returns each written
   * session's turn number; a session missing from it was no longer active, and nothing of its turn
   * is stored. The sessions are found by their primary key, as recordTurn finds its one.
   */
  async recordTurns (db: Queryable, turns: ReadonlyArray<SessionTurn>): Promise<Map<string, number>> {
    const now = this.now()
    const columns = turns.map(({ messages }) => turnValues(messages))
    const column = (i: number): unknown[] => columns.map(values => values[i])
    const { rows } = await db.query<{ id: string, turn: number }>(
      `WITH batch AS (
         SELECT * FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[],
           $10::float8[], $11::float8[], $12::int[], $13::text[], $14::jsonb[], $15::text[], $16::text[], $17::jsonb[])
           AS b (id, user_text, reply, kind, command, sources, top_score, latency_ms, context_turn, trace_id,
             generation, user_search, reply_search, decision)),
       counted AS (
         UPDATE sessions s SET turn_count = s.turn_count + 1, last_activity_at = $3
         FROM batch b
         WHERE s.id = b.id AND s.id = ANY($4::uuid[]) AND (${activeSession('s.')}) IS TRUE
         RETURNING s.id, s.turn_count),
       written AS (
         INSERT INTO messages (${MESSAGE_COLUMNS})
         SELECT c.id, c.turn_count, 'user', b.user_text, NULL, NULL, '[]'::jsonb, NULL, NULL,
           NULL, $3, b.trace_id, NULL, b.user_search, NULL FROM counted c JOIN batch b ON b.id = c.id
         UNION ALL
         SELECT c.id, c.turn_count, 'bot', b.reply, b.kind, b.command, b.sources, b.top_score, b.latency_ms,
           b.context_turn, $3, b.trace_id, b.generation, b.reply_search, b.decision
         FROM counted c JOIN batch b ON b.id = c.id
         RETURNING session_id, turn, role)
       SELECT session_id::text AS id, turn FROM written WHERE role = 'bot'`,
      [...this.cutoffs(now), now, turns.map(({ id }) => id), ...TURN_VALUES.map((_, i) => column(i))],
      { name: 'record_turns' })
    return new Map(rows.map(row => [row.id, row.turn]))
  }

  /** A transaction whose audit events commit with it: for turns that open or end sessions. */
  async transaction<T> (fn: (tx: Queryable, audit: RecordInTransaction) => Promise<T>): Promise<T> {
    return await this.auditTrail.transaction(this.db, fn)
  }

  async end (tx: Queryable, id: string, status: 'expired' | 'reset'): Promise<void> {
    const { rows } = await tx.query<EndedSession>(
      `UPDATE sessions SET status = $1, ended_at = $2 WHERE id = $3 AND status = 'active' RETURNING ${ENDED}`,
      [status, this.now(), id])
    this.recordEnded(rows)
    log('session_manager', 'end').info({ ended_session_id: id, status }, `session.${status}`)
  }

  /**
   * Locks the sessions an erasure deletes, in the caller's transaction, and returns them: one, or
   * all of a user's, then with the lock every opening holds, so that none of theirs opens until the
   * erasure commits. NOWAIT, because a turn holding one of these rows may itself wait for that lock
   * (a /reset opens a session): the caller retries (isLockBusy) rather than deadlock with it.
   */
  async lockForErasure (tx: Queryable, subject: { userId: string } | { sessionId: string }): Promise<ErasedSession[]> {
    if ('userId' in subject) await tx.query(SESSION_CAPS_LOCK)
    const [where, value] = 'userId' in subject ? ['user_id = $1', subject.userId] : ['id = $1', subject.sessionId]
    const { rows } = await tx.query<{ id: string, user_id: string | null }>(
      `SELECT id, user_id FROM sessions WHERE ${where} ORDER BY id FOR UPDATE NOWAIT`, [value])
    return rows.map(row => ({ id: row.id, userId: row.user_id }))
  }

  /**
   * Deletes sessions (messages and feedback cascade; delete them first to count them) and, with
   * `erasedAt`, remembers their ids as erased, so that no turn or trace still in flight writes one
   * back. Returns how many sessions there were.
   */
  async deleteSessions (tx: Queryable, ids: readonly string[], erasedAt?: Date): Promise<number> {
    if (ids.length === 0) return 0
    const { rowCount } = await tx.query('DELETE FROM sessions WHERE id = ANY($1::uuid[])', [ids])
    if (erasedAt !== undefined) {
      await tx.query(`INSERT INTO erased_sessions (session_id, erased_at) SELECT id, $2 FROM unnest($1::uuid[]) AS id
        ON CONFLICT (session_id) DO UPDATE SET erased_at = excluded.erased_at`, [ids, erasedAt])
    }
    return rowCount
  }

  /**
   * Remembers a user as erased, by pseudonym, never the id: a turn of theirs started before `at`
   * opens no session.
   */
  async rememberErasedUser (tx: Queryable, pseudonym: string, at: Date): Promise<void> {
    await tx.query(`INSERT INTO erased_users (pseudonym, erased_at) VALUES ($1, $2)
      ON CONFLICT (pseudonym) DO UPDATE SET erased_at = excluded.erased_at`, [pseudonym, at])
  }

  /** Forgets erasures made before the cutoff (nothing in flight can outlast a day); returns how many. */
  async forgetErasuresBefore (cutoff: Date): Promise<number> {
    const sessions = await this.db.query('DELETE FROM erased_sessions WHERE erased_at < $1', [cutoff])
    const users = await this.db.query('DELETE FROM erased_users WHERE erased_at < $1', [cutoff])
    return sessions.rowCount + users.rowCount
  }

  /**
   * Up to `limit` ended sessions whose last turn is before the cutoff, oldest first, locked in the
   * caller's transaction; rows another instance's retention holds are skipped, not waited for. A
   * session still active is never among them (its next turn must find it).
   */
  async endedBefore (tx: Queryable, cutoff: Date, limit: number): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM sessions WHERE last_activity_at < $3 AND NOT (${ACTIVE})
       ORDER BY last_activity_at, id LIMIT $4 FOR UPDATE SKIP LOCKED`, [...this.cutoffs(this.now()), cutoff, limit])
    return rows.map(row => row.id)
  }

  /** Marks sessions past a time limit as expired; returns how many. Run periodically. */
  async expireIdle (): Promise<number> {
    const now = this.now()
    const { rows, rowCount } = await this.db.query<EndedSession>(
      `UPDATE sessions SET status = 'expired', ended_at = $3
       WHERE status = 'active' AND NOT (${ACTIVE}) RETURNING ${ENDED}`, [...this.cutoffs(now), now])
    this.recordEnded(rows)
    if (rowCount > 0) log('session_manager', 'expireIdle').info({ expired: rowCount }, 'session.expired')
    return rowCount
  }

  /**
   * Refreshes the planner's statistics of the table: the named statements are planned again with
   * them (after the table grew from the few rows of a new install, say). Server PostgreSQL's
   * autovacuum analyses it as it changes; the embedded database has no autovacuum, and there the
   * table was never analysed. There it runs on the thread that answers chat, so from a sample of
   * 3,000 rows rather than the default 30,000: with 500,000 sessions it took 95 ms, now 15, and
   * the plans the sessions' statements need (a row by id, a range of activity) are the same.
   */
  async refreshStatistics (): Promise<void> {
    if (this.db.engine !== 'pglite') return
    await this.db.exec('SET default_statistics_target = 10; ANALYZE sessions; RESET default_statistics_target')
  }

  /** Distinct users with a turn within the window (sessions without a user_id do not count). */
  async countActiveUsers (windowMs: number): Promise<number> {
    const { rows } = await this.db.query<{ count: number }>(
      'SELECT count(DISTINCT user_id)::int AS count FROM sessions WHERE last_activity_at > $1',
      [new Date(this.now().getTime() - windowMs)])
    return rows[0]!.count
  }

  private recordEnded (sessions: EndedSession[]): void {
    for (const { active_seconds: seconds, turn_count: turns } of sessions) {
      this.instruments?.sessionDuration.record(Number(seconds))
      this.instruments?.sessionTurns.record(turns)
    }
  }

  async countActive (): Promise<number> {
    const { rows } = await this.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM sessions WHERE ${ACTIVE}`, this.cutoffs(this.now()))
    return rows[0]!.count
  }

  /** Whether the service is at MAX_ACTIVE_SESSIONS. */
  private async serviceFull (tx: Queryable, now: Date): Promise<boolean> {
    const { rows } = await tx.query<{ full: boolean }>(
      `SELECT count(*) >= $3 AS full FROM (SELECT 1 FROM sessions WHERE ${ACTIVE} LIMIT $3) AS active`,
      [...this.cutoffs(now), this.limits.maxActive])
    return rows[0]!.full
  }

  /**
   * At MAX_ACTIVE_SESSIONS, the session idle longest ends to make room, if it has been idle for
   * MIN_IDLE_TO_REPLACE_MS: sessions opened and abandoned (by a client that loses its ids, or one
   * that opens sessions under made-up user ids) give way to new users, while sessions in use are
   * never ended. If none has been idle that long, the new session is refused (429).
   */
  private async replaceLongestIdle (
    tx: Queryable,
    now: Date,
    newSession: Session,
    audit: RecordInTransaction
  ): Promise<void> {
    const minIdleMs = Math.min(MIN_IDLE_TO_REPLACE_MS, this.limits.idleTimeoutMs)
    const idleSince = new Date(now.getTime() - minIdleMs)
    const { rows } = await tx.query<EndedSession & { id: string }>(
      `UPDATE sessions SET status = 'replaced', ended_at = $3 WHERE id = (
         SELECT id FROM sessions WHERE ${ACTIVE} AND id <> $4 AND last_activity_at <= $5
         ORDER BY last_activity_at, id LIMIT 1)
       RETURNING id, ${ENDED}`, [...this.cutoffs(now), now, newSession.id, idleSince])
    if (rows.length === 0) {
      // Every other session was used within the minimum idle time: the first to reach it frees a place.
      const { rows: oldest } = await tx.query<{ at: Date | null }>(
        `SELECT min(last_activity_at) AS at FROM sessions WHERE ${ACTIVE} AND id <> $3`,
        [...this.cutoffs(now), newSession.id])
      const replaceableAt = (oldest[0]?.at?.getTime() ?? now.getTime()) + minIdleMs
      const retryAfter = Math.max(1, Math.ceil((replaceableAt - now.getTime()) / 1000))
      const max = this.limits.maxActive
      throw new LimitExceededError('active_sessions', max, retryAfter,
        `The service has reached its limit of ${max} active sessions (MAX_ACTIVE_SESSIONS), ` +
        `all in use within the last minute; retry in ${retryAfter} s.`)
    }
    await this.recordReplaced(rows, newSession, 'MAX_ACTIVE_SESSIONS', this.limits.maxActive, audit)
  }

  /**
   * Ends the user's least recently used active sessions of the same opener beyond
   * MAX_SESSIONS_PER_USER, the new one included.
   */
  private async replaceLeastRecentlyUsed (
    tx: Queryable,
    now: Date,
    newSession: Session,
    audit: RecordInTransaction
  ): Promise<number> {
    const { rows } = await tx.query<EndedSession & { id: string }>(
      `UPDATE sessions SET status = 'replaced', ended_at = $3 WHERE id IN (
         SELECT id FROM sessions WHERE ${ACTIVE} AND user_id = $4 AND opened_by IS NOT DISTINCT FROM $7 AND id <> $5
         ORDER BY last_activity_at DESC, id OFFSET $6)
       RETURNING id, ${ENDED}`,
      [...this.cutoffs(now), now, newSession.userId, newSession.id, this.limits.maxPerUser - 1, newSession.openedBy])
    await this.recordReplaced(rows, newSession, 'MAX_SESSIONS_PER_USER', this.limits.maxPerUser, audit)
    return rows.length
  }

  private async recordReplaced (
    rows: Array<EndedSession & { id: string }>,
    newSession: Session,
    limit: string,
    max: number,
    audit: RecordInTransaction
  ): Promise<void> {
    this.recordEnded(rows)
    for (const { id } of rows) {
      log('session_manager', 'create').info(
        { ended_session_id: id, new_session_id: newSession.id, limit, max }, 'session.replaced')
      await audit({
        actor: SERVICE_ACTOR,
        action: 'session.replace',
        target: id,
        result: 'success',
        details: { replaced_by: newSession.id, limit, max }
      })
    }
  }

  private cutoffs (now: Date): [Date, Date] {
    return [new Date(now.getTime() - this.limits.idleTimeoutMs), new Date(now.getTime() - this.limits.maxAgeMs)]
  }

  /** A row as of now: a session past its time limits is expired even before the sweeper marks it. */
  private toSession (row: SessionRow): Session {
    const expiresAt = new Date(Math.min(
      row.last_activity_at.getTime() + this.limits.idleTimeoutMs,
      row.created_at.getTime() + this.limits.maxAgeMs
    ))
    const lapsed = row.status === 'active' && expiresAt <= this.now()
    return {
      id: row.id,
      userId: row.user_id,
      openedBy: row.opened_by,
      status: lapsed ? 'expired' : row.status,
      turnCount: row.turn_count,
      createdAt: row.created_at,
      lastActivityAt: row.last_activity_at,
      endedAt: row.ended_at ?? (lapsed ? expiresAt : null),
      expiresAt
    }
  }
}
