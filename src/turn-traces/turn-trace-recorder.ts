// Writes each chat turn's trace (src/turn-traces/turn-trace.ts) from its two halves, which arrive
// apart: the spans, when the trace's root span ends (src/telemetry/turn-span-collector.ts), and the request's
// half (log lines, status, session and turn) when the response is sent (plugins/turn-traces.ts).
// They are joined by trace id (the request id when the turn was not traced) and written in batches
// by a timer, never by the request: one INSERT per batch, an upsert, so that a half arriving after
// its record was written without it merges into the row. The queue is bounded; what is lost (a full
// queue, a failed write) is counted by reason, never retried without bound.
//
// Every turn gets its row, with its duration and its parts. A turn let go under pressure (answered
// well while others waited in line) gets only those: its spans and log lines cost the database
// ten times more (bench/README.md), so they are held in memory for a while instead, and written if
// the turn is rated down or an analyst opens it meanwhile: what a complaint needs arrives later.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Counter } from '@opentelemetry/api'
import { LRUCache } from 'lru-cache'
import type { Queryable } from '../db/database.js'
import { isUuid } from '../http/schemas.js'
import { outsideAnyContext } from '../logging/log-context.js'
import type { TurnParts, TurnSpan } from './turn-trace.js'

/** The spans of one chat turn's trace, from the span collector. */
export interface TurnSpanHalf {
  traceId: string
  /**
   * The spans as the console shows them, made when the record is written: a turn let go under
   * pressure is held, and most are never written, so their spans are never converted.
   */
  spans: () => TurnSpan[]
  /** The root span's start and duration: the whole request as the server saw it. */
  startedAt: Date
  durationMs: number
  /** The root span's http.response.status_code, if it has one. */
  statusCode?: number
  /** From the chat.turn span's attributes (session.id, parley.turn). */
  sessionId?: string
  turn?: number
  /** A failed root or turn span's status message, scrubbed. */
  error?: string
}

/** What the request knows of its turn, when its response has been sent. */
export interface TurnRequestHalf {
  /** The trace id; the request id when the request was not traced. */
  key: string
  /** Whether spans are to be expected for this key (the request was traced). */
  traced: boolean
  sessionId: string | null
  turn: number | null
  statusCode: number
  startedAt: Date
  durationMs: number
  /** The lines written while serving the request, as written (one JSON text each). */
  logs: readonly string[]
  /** A 5xx's error message, scrubbed. */
  error: string | null
  /** Where the turn's time went (none when the request failed before its turn was measured). */
  parts: TurnParts | null
  /** Set when its spans and log lines are held rather than written: it was answered well while turns waited in line. */
  letGo?: 'pressure'
  /**
   * The pseudonym of the user the turn was sent for, whatever LOG_USER_ID says (never the id): how
   * an erasure finds a user's turn whose session was never stored, and how a turn of a user erased
   * while it was in flight is kept from being written.
   */
  userPseudonym?: string | null
}

/**
 * Why turn traces were lost: the recorder's own (a full queue, a failed write; an ordinary turn's
 * spans and lines let go while turns wait in line) and the span collector's.
 */
export const TURN_TRACE_DROP_REASONS = [
  'queue_full', 'write_failed', 'pressure', 'open_traces', 'spans_truncated', 'root_never_ended'
] as const
export type TurnTraceDropReason = typeof TURN_TRACE_DROP_REASONS[number]

export interface TurnTraceRecorderOptions {
  db: Queryable
  /** Records waiting (for their other half, or to be written) at most; more are dropped (TURN_TRACE_MAX_QUEUE). */
  maxQueue: number
  /** Rows older than this many days are deleted; 0 keeps none (TURN_TRACE_RETENTION_DAYS). */
  retentionDays: number
  /** How long a half waits for the other before it is written alone. */
  graceMs?: number
  /** How often what is ready is written, and the most records one INSERT carries. */
  flushIntervalMs?: number
  batchSize?: number
  /** How often old rows are deleted. */
  retentionIntervalMs?: number
  /** chatbot_turn_traces_dropped_total{reason} */
  droppedCounter?: Counter
  /** Told of each failed write (the caller logs it); the records are counted as dropped. */
  onWriteFailed?: (error: unknown, records: number) => void
  /** Turns held at most (MAX_HELD); the oldest goes first. */
  maxHeld?: number
  /** Time, for the grace, the hold and the retention cut-off (tests move it). */
  now?: () => Date
}

interface Pending {
  spans?: TurnSpanHalf
  request?: TurnRequestHalf
  /** When the half that is here is written alone (ms since the epoch). */
  due: number
  /** A held turn's spans and log lines, as its row stores them (hold(), below). */
  stored?: { spans?: string, logs: string }
}

// Long enough for the other half of a turn to arrive (both come within the same response, a few
// ms apart), short enough that a record is written soon after its turn.
const DEFAULT_GRACE_MS = 2000
const DEFAULT_FLUSH_INTERVAL_MS = 1000
// A hundred turns' rows are a few hundred kB of JSON: one statement, well under any limit.
const DEFAULT_BATCH_SIZE = 100
// Long enough for a user to rate a wrong answer down, or for the team to be alerted and look; the
// count keeps what is held within about 30 MB (a held turn's spans and lines as the row's JSON, two
// flat strings of about 6 kB).
export const HOLD_MS = 15 * 60_000
export const MAX_HELD = 5000
const HOUR_MS = 3_600_000
const EXPIRED_BATCH = 5_000

// A batch is one statement, each field of each record its own parameter (13 a record: a batch
// stays far below the protocol's 65,535). The database parses no JSON but the spans and lines it
// stores, as json: with the batch as one JSON document and jsonb columns, a turn cost the embedded
// database 1.3 to 1.5 times as much (bench:turn-trace-writes). A half written alone leaves what
// it does not know empty, so that the other half, arriving late, fills it in. A record of an
// erased session, or of a turn its user was erased during, is not written (nor merged): the
// erasure may have run between the turn and this write, on this instance or another. OFFSET 0
// keeps each of those checks a lookup by primary key, row by row: a full batch's plan is made once
// per connection, most often while nobody has been erased, and the join planned then hashed the
// whole table at every batch once it filled (five times a row's cost with 200,000 erased ids).
const COLUMNS = {
  trace_id: 'text',
  session_id: 'uuid',
  turn: 'integer',
  status: 'text',
  status_code: 'integer',
  started_at: 'timestamptz',
  duration_ms: 'double precision',
  parts: 'jsonb',
  let_go: 'text',
  spans: 'json',
  logs: 'json',
  error: 'text',
  user_pseudonym: 'text'
} as const
type Column = keyof typeof COLUMNS
type RecordParams = Record<Column, unknown>
const COLUMN_NAMES = Object.keys(COLUMNS) as Column[]
const NAMES = COLUMN_NAMES.join(', ')

/** The upsert of `records` records: the first row's casts type every row's parameters. */
function upsertOf (records: number): string {
  const rows = Array.from({ length: records }, (_, row) => '(' + COLUMN_NAMES.map((column, index) =>
    `$${row * COLUMN_NAMES.length + index + 1}${row === 0 ? `::${COLUMNS[column]}` : ''}`).join(', ') + ')')
  return `
  INSERT INTO turn_traces AS t (${NAMES})
  SELECT ${NAMES} FROM (VALUES ${rows.join(', ')}) AS r(${NAMES})
  WHERE NOT EXISTS (SELECT 1 FROM erased_sessions e WHERE e.session_id = r.session_id OFFSET 0)
    AND NOT EXISTS (SELECT 1 FROM erased_users u
      WHERE u.pseudonym = r.user_pseudonym AND u.erased_at >= r.started_at OFFSET 0)
  ON CONFLICT (trace_id) DO UPDATE SET
    session_id = COALESCE(EXCLUDED.session_id, t.session_id),
    user_pseudonym = COALESCE(EXCLUDED.user_pseudonym, t.user_pseudonym),
    turn = COALESCE(EXCLUDED.turn, t.turn),
    status = CASE WHEN EXCLUDED.status = 'error' OR t.status = 'error' THEN 'error' ELSE 'ok' END,
    status_code = CASE WHEN EXCLUDED.status_code > 0 THEN EXCLUDED.status_code ELSE t.status_code END,
    started_at = LEAST(EXCLUDED.started_at, t.started_at),
    duration_ms = GREATEST(EXCLUDED.duration_ms, t.duration_ms),
    parts = COALESCE(EXCLUDED.parts, t.parts),
    let_go = CASE WHEN json_array_length(EXCLUDED.spans) + json_array_length(EXCLUDED.logs) > 0 THEN NULL
      ELSE COALESCE(EXCLUDED.let_go, t.let_go) END,
    spans = CASE WHEN json_array_length(EXCLUDED.spans) > 0 THEN EXCLUDED.spans ELSE t.spans END,
    logs = CASE WHEN json_array_length(EXCLUDED.logs) > 0 THEN EXCLUDED.logs ELSE t.logs END,
    error = COALESCE(EXCLUDED.error, t.error)
  RETURNING (xmax = 0) AS inserted`
}

export class TurnTraceRecorder {
  private readonly options: TurnTraceRecorderOptions
  private readonly now: () => Date
  private readonly graceMs: number
  private readonly batchSize: number
  private readonly fullBatch: { text: string, name: string }
  // Halves waiting for their other half, oldest first (all wait the same grace).
  private readonly pending = new Map<string, Pending>()
  // Records to write, by key: two halves of one trace never go into one statement apart.
  private readonly ready = new Map<string, Pending>()
  // Turns let go under pressure, their spans and lines held until then (ms since the epoch), oldest
  // first. Under pressure the cap is reached and every turn let go evicts the oldest: a Map's first
  // key, behind the thousands deleted before it, cost 4.9 to 6.2 µs a turn with 5,000 held; the
  // cache's own order, 0.8 to 1.3 µs (bench/README.md).
  private readonly held: LRUCache<string, Pending>
  private writing: Promise<void> = Promise.resolve()
  private soon = false
  private timers: NodeJS.Timeout[] = []
  private keptTotal = 0
  private readonly droppedTotals =
    Object.fromEntries(TURN_TRACE_DROP_REASONS.map(reason => [reason, 0])) as Record<TurnTraceDropReason, number>

  constructor (options: TurnTraceRecorderOptions) {
    this.options = options
    this.now = options.now ?? (() => new Date())
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
    this.fullBatch = { text: upsertOf(this.batchSize), name: `turn_traces_upsert_${this.batchSize}` }
    this.held = new LRUCache({
      max: options.maxHeld ?? MAX_HELD,
      dispose: (_held, _key, reason) => { if (reason === 'evict') this.countDropped('pressure', 1) }
    })
    // Known series start at 0, so rate() sees the first drop.
    for (const reason of TURN_TRACE_DROP_REASONS) options.droppedCounter?.add(0, { reason })
  }

  /** Whether turns are recorded at all: TURN_TRACE_RETENTION_DAYS=0 keeps none. */
  get enabled (): boolean {
    return this.options.retentionDays > 0
  }

  /** Records written since start (a late half merged into its row is not counted again). */
  kept (): number {
    return this.keptTotal
  }

  /** Records (or, for the span collector's reasons, traces) lost since start, by reason. */
  dropped (): Record<TurnTraceDropReason, number> {
    return { ...this.droppedTotals }
  }

  /** Records waiting, for tests and /status. */
  queued (): number {
    return this.pending.size + this.ready.size
  }

  countDropped (reason: TurnTraceDropReason, count: number): void {
    this.droppedTotals[reason] += count
    this.options.droppedCounter?.add(count, { reason })
  }

  /** Turns whose spans and lines are held (for tests and /status). */
  heldCount (): number {
    return this.held.size
  }

  addSpans (half: TurnSpanHalf): void {
    const held = this.held.peek(half.traceId)
    if (held === undefined) {
      this.add(half.traceId, { spans: half }, true)
      return
    }
    held.spans = { ...half, spans: NO_SPANS }
    held.stored = { logs: held.stored?.logs ?? '[]', spans: spansJson(half) }
  }

  /**
   * A turn's request half. One let go (`letGo`) is written at once without its log lines, which
   * are held with its spans, come or to come, until keep(); past the hold they are lost, counted
   * (reason pressure).
   */
  addRequest (half: TurnRequestHalf): void {
    if (half.letGo === undefined || !this.enabled) {
      this.add(half.key, { request: half }, half.traced)
      return
    }
    const spans = this.pending.get(half.key)?.spans
    this.pending.delete(half.key)
    this.held.set(half.key, hold({ spans, request: half, due: this.now().getTime() + HOLD_MS }))
    this.add(half.key, { request: { ...half, logs: [] } }, false)
  }

  /** Writes a turn's held spans and log lines (it was rated down, or opened); false if none are held here. */
  keep (key: string): boolean {
    const held = this.held.peek(key)
    if (held === undefined) return false
    this.held.delete(key)
    this.toReady(key, { ...held, request: { ...held.request!, letGo: undefined } })
    return true
  }

  /** Writes timed-out halves and what is ready every flush interval, and deletes old rows hourly. */
  start (): void {
    if (this.timers.length > 0) return
    // Made outside any request: a timer keeps the context it was made in, and the recorder's own
    // statements and lines belong to no turn.
    outsideAnyContext(() => {
      this.timers.push(setInterval(
        () => { this.flush().catch(() => {}) },
        this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS
      ).unref())
      this.timers.push(setInterval(
        () => { this.deleteExpired().catch(() => {}) },
        this.options.retentionIntervalMs ?? HOUR_MS
      ).unref())
    })
  }

  /** keep(), written before it returns: an analyst opening the turn reads it whole. */
  async keepNow (key: string): Promise<boolean> {
    if (!this.keep(key)) return false
    await this.flush()
    return true
  }

  /** Stops the timers and writes everything queued, halves still waiting included (the app is closing). */
  async close (): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    await this.flush({ all: true })
  }

  /** Writes what is ready, and halves whose grace is over (every one with `all`), in batches. */
  async flush ({ all = false } = {}): Promise<void> {
    const previous = this.writing
    const done = previous.then(async () => {
      const now = this.now().getTime()
      const expired: string[] = []
      for (const key of this.held.rkeys()) {
        if (!all && this.held.peek(key)!.due > now) break
        expired.push(key)
      }
      for (const key of expired) this.held.delete(key)
      if (expired.length > 0) this.countDropped('pressure', expired.length)
      for (const [key, entry] of this.pending) {
        if (!all && entry.due > now) break
        this.pending.delete(key)
        this.toReady(key, entry)
      }
      while (this.ready.size > 0) await this.writeBatch()
    })
    this.writing = done.catch(() => {})
    await done
  }

  /**
   * Lets go of what this instance holds of these sessions' turns, or of this user's (an erasure):
   * waiting halves, records not yet written, spans and lines held. What is written later is kept
   * out by the database (UPSERT); this frees the memory now. Returns how many records went.
   */
  forget (sessionIds: ReadonlySet<string>, userPseudonym?: string): number {
    const of = ({ spans, request }: Pending): boolean =>
      [request?.sessionId, spans?.sessionId].some(id => id != null && sessionIds.has(id.toLowerCase())) ||
      (userPseudonym !== undefined && request?.userPseudonym === userPseudonym)
    let forgotten = 0
    for (const entries of [this.pending, this.ready, this.held]) {
      for (const [key, entry] of [...entries.entries()]) {
        if (!of(entry)) continue
        entries.delete(key)
        forgotten++
      }
    }
    return forgotten
  }

  /**
   * Deletes rows older than the retention (all of them with 0); returns how many. In batches, with
   * the event loop let run in between: each hour deletes an hour of a week ago's turns, and on the
   * embedded database one statement for all of them would hold the thread that answers chat (49,000
   * rows took 40 ms; a busy hour's 1.4 million, a second).
   */
  async deleteExpired (batchSize = EXPIRED_BATCH): Promise<number> {
    const cutoff = new Date(this.now().getTime() - this.options.retentionDays * 86_400_000)
    let deleted = 0
    for (;;) {
      const { rowCount } = await outsideAnyContext(async () => await this.options.db.query(
        `DELETE FROM turn_traces WHERE trace_id IN (
           SELECT trace_id FROM turn_traces WHERE started_at < $1 LIMIT $2)`, [cutoff, batchSize]))
      deleted += rowCount
      if (rowCount < batchSize) return deleted
      await yieldToEventLoop()
    }
  }

  private add (key: string, half: Omit<Pending, 'due'>, expectsOther: boolean): void {
    if (!this.enabled) return
    const waiting = this.pending.get(key)
    if (waiting !== undefined) {
      this.pending.delete(key)
      this.toReady(key, { ...waiting, ...half })
      return
    }
    if (this.queued() >= this.options.maxQueue) {
      this.countDropped('queue_full', 1)
      return
    }
    if (expectsOther) this.pending.set(key, { ...half, due: this.now().getTime() + this.graceMs })
    else this.toReady(key, { ...half, due: 0 })
  }

  private toReady (key: string, entry: Pending): void {
    const there = this.ready.get(key)
    this.ready.set(key, there === undefined ? entry : { ...there, ...entry })
    // A full batch is written at once rather than at the next tick, off the request that filled it.
    if (this.ready.size >= this.batchSize && !this.soon) {
      this.soon = true
      outsideAnyContext(() => setImmediate(() => { this.soon = false; this.flush().catch(() => {}) }))
    }
  }

  private async writeBatch (): Promise<void> {
    const batch: RecordParams[] = []
    for (const [key, entry] of this.ready) {
      this.ready.delete(key)
      batch.push(recordParams(key, entry))
      if (batch.length >= this.batchSize) break
    }
    try {
      const params = batch.flatMap(record => COLUMN_NAMES.map(column => record[column]))
      // A full batch, what a busy hour writes, runs as a named statement, parsed once per connection
      // rather than at every batch: a fifth to a third of a row's cost on the embedded database
      // (bench:turn-trace-writes).
      const full = batch.length === this.batchSize
      const { rows } = await outsideAnyContext(async () => await this.options.db.query<{ inserted: boolean }>(
        full ? this.fullBatch.text : upsertOf(batch.length), params, full ? { name: this.fullBatch.name } : undefined))
      this.keptTotal += rows.filter(row => row.inserted).length
    } catch (error) {
      this.countDropped('write_failed', batch.length)
      this.options.onWriteFailed?.(error, batch.length)
    }
  }
}

const NO_SPANS = (): TurnSpan[] => []
/** A turn's spans as its row stores them, converted from the SDK's. */
const spansJson = (half: TurnSpanHalf | undefined): string => JSON.stringify(half?.spans() ?? [])
/** Log lines as the row stores them: JSON already (pino wrote them), put in an array unparsed. */
const linesJson = (lines: readonly string[]): string => `[${lines.join(',')}]`

/**
 * A turn to hold, its spans and lines made the JSON its row will store, once. Held as the SDK made
 * them (objects holding objects) and as the lines were captured, thousands of held turns outlived
 * the young generation, and holding 5,000 of them against one cost the embedded database's thread
 * 0.19 ms a turn at 50 clients (bench:load --turn-traces; bench/README.md). Two strings are all
 * that is left to copy and mark.
 */
function hold ({ spans, request, due }: Pending): Pending {
  return {
    spans: spans === undefined ? undefined : { ...spans, spans: NO_SPANS },
    request: request === undefined ? undefined : { ...request, logs: [] },
    due,
    stored: {
      spans: spans === undefined ? undefined : spansJson(spans),
      logs: linesJson(request?.logs ?? [])
    }
  }
}

/**
 * One record's parameters, in COLUMNS' order. The log lines are JSON already (pino wrote them) and
 * go in as they are, unparsed; what the request or its spans do not know is left empty.
 */
function recordParams (key: string, { spans, request, stored }: Pending): RecordParams {
  const sessionId = request?.sessionId ?? spans?.sessionId ?? null
  const statusCode = request?.statusCode ?? spans?.statusCode ?? 0
  // The request's word on its error is final; its spans tell only when the request's half is missing.
  const error = request !== undefined ? request.error : spans?.error ?? null
  const parts = request?.parts ?? null
  const letGo = request?.letGo !== undefined
  return {
    trace_id: key,
    // A session id the caller sent is only a uuid if it was valid; anything else would fail the batch.
    session_id: sessionId !== null && isUuid(sessionId) ? sessionId : null,
    turn: request?.turn ?? spans?.turn ?? null,
    status: statusCode >= 500 || (statusCode === 0 && error !== null) ? 'error' : 'ok',
    status_code: statusCode,
    started_at: (spans?.startedAt ?? request!.startedAt).toISOString(),
    duration_ms: Math.max(spans?.durationMs ?? 0, request?.durationMs ?? 0),
    parts: parts === null ? null : JSON.stringify(parts),
    let_go: request?.letGo ?? null,
    spans: letGo ? '[]' : stored?.spans ?? spansJson(spans),
    logs: letGo ? '[]' : stored?.logs ?? linesJson(request?.logs ?? []),
    error,
    user_pseudonym: request?.userPseudonym ?? null
  }
}
