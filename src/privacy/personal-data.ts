// What Parley holds about a user or a conversation: erased on request (POST /v1/admin/erasures,
// `npm run erase`, and DELETE /v1/sessions/:id for one session), exported on request
// (GET /v1/admin/user-data), and deleted once old (CONVERSATION_RETENTION_DAYS). Each table's SQL
// stays with its owner (sessions, messages and feedback, turn traces, saved test questions); this
// module runs them in one transaction with the audit event, and keeps what is in flight from
// writing anything back.
//
// The race with turns in flight: a turn is answered first and stored after, so an erasure can run in
// between. The session's row is locked and deleted, and its id remembered as erased: the turn's
// write (an UPDATE of that row) finds no session and stores nothing (404), and its trace, written a
// second or two later by the recorder of this instance or another, is kept out by the same memory.
// A turn that would open a session for an erased user checks the erased users (by pseudonym) under
// the lock an erasure of a user holds, so one that started before the erasure stores nothing
// (409), and its trace is kept out the same way. Erasures are remembered for a day, longer than
// any turn lasts and than the recorder holds a trace in memory.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { AuditTrail, RecordInTransaction } from '../audit/audit-trail.js'
import type { TranscriptRepository } from '../transcript/transcript-repository.js'
import type { Database, Queryable } from '../db/database.js'
import { ProblemError } from '../errors.js'
import type { EvaluationStore } from '../evaluation/evaluation-store.js'
import { log } from '../logging/log-context.js'
import type { SessionManager } from '../sessions/session-manager.js'
import { sessionRecord } from '../sessions/session-record.js'
import { deleteTurnTraces, turnTraceSummaries } from '../turn-traces/turn-traces-of.js'
import type { ErasedCounts, ErasureReport, UserDataExport } from './personal-data-schemas.js'

/**
 * How long erased sessions and users are remembered: past any turn in flight, and any trace held in
 * memory (15 min).
 */
export const ERASURE_MEMORY_MS = 86_400_000
/** The audit trail's action for an erasure (a deleted session keeps its own, session.delete). */
export const ERASE_ACTION = 'personal_data.erase'
export const EXPORT_ACTION = 'personal_data.export'
export const RETENTION_ACTION = 'conversations.retention'
// Who the audit trail names for what the service does by its own policy.
const SERVICE_ACTOR = 'parley'
// A row lock not granted at once (NOWAIT), or a deadlock: the erasure is tried again.
const LOCK_BUSY = new Set(['55P03', '40P01'])
const MAX_ATTEMPTS = 40
const MAX_BACKOFF_MS = 250
// Sessions deleted per transaction by retention: a backlog of any size is deleted in short ones.
const RETENTION_BATCH = 100
const BUSY = 'The sessions to erase stayed in use by turns being stored; nothing was erased. Retry in a few seconds.'

export type ErasureSubject = { userId: string } | { sessionId: string }

/** What this instance holds in memory of erased sessions and a user, to let go of once the erasure commits. */
export interface Erased {
  sessionIds: ReadonlySet<string>
  userId?: string
  userPseudonym?: string
}

export interface PersonalDataOptions {
  db: Database
  auditTrail: AuditTrail
  sessionManager: SessionManager
  transcript: TranscriptRepository
  /** The saved test questions, which the console may have taken from a user's words. */
  evaluationStore?: EvaluationStore
  /** A user's pseudonym (LogPrivacy.pseudonym): the audit trail and erased_users name them by it, never by their id. */
  pseudonym: (userId: string) => string
  /** The scrubber, for messages stored without a scrubbed copy (search_text): unchanged by it, or from before it. */
  scrub: (text: string) => string
  /** Told once an erasure has committed (the turn-trace recorder's memory, the pseudonyms remembered). */
  onErased?: (erased: Erased) => void
  now?: () => Date
  sleep?: (ms: number) => Promise<void>
}

export type RetentionCounts = Omit<ErasedCounts, 'evaluation_questions' | 'evaluation_runs'>

interface EraseOptions {
  /** Whether saved test questions taken from the erased words go too (an erasure), or not (a session deleted). */
  evaluations: boolean
  /** Whether a session id is remembered erased even if no such session is stored. */
  rememberAlways: boolean
}

interface Erasing {
  sessionIds: string[]
  /** The user of an erased session, by pseudonym. */
  owner: string | null
  erased: ErasedCounts
}

const isLockBusy = (error: unknown): boolean => LOCK_BUSY.has(String((error as { code?: unknown } | null)?.code))

export class PersonalData {
  private readonly options: PersonalDataOptions
  private readonly now: () => Date
  private readonly sleep: (ms: number) => Promise<void>

  constructor (options: PersonalDataOptions) {
    this.options = options
    this.now = options.now ?? (() => new Date())
    this.sleep = options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)))
  }

  /**
   * Erases everything held about a user (every session, with its messages, feedback and turn
   * traces; their failed turns' traces; saved test questions taken from their words) or about one
   * session, in one transaction with its audit entry, which names the user by pseudonym and says
   * how much went, never what. Erasing what is not there erases nothing, and says so.
   */
  async erase (subject: ErasureSubject, actor: string): Promise<ErasureReport> {
    const sessionId = 'sessionId' in subject ? subject.sessionId.toLowerCase() : undefined
    const userId = 'userId' in subject ? subject.userId : undefined
    const userPseudonym = userId === undefined ? undefined : this.options.pseudonym(userId)
    const target = sessionId === undefined ? { userId: userId! } : { sessionId }
    const { report, sessionIds } = await this.inTransaction(async (tx, audit) => {
      const at = this.now()
      const erasing = { evaluations: true, rememberAlways: true }
      const { sessionIds, owner, erased } = await this.eraseIn(tx, at, target, erasing)
      if (userPseudonym !== undefined) await this.options.sessionManager.rememberErasedUser(tx, userPseudonym, at)
      const report: ErasureReport = {
        subject: sessionId === undefined ? 'user' : 'session',
        user_pseudonym: userPseudonym ?? owner,
        session_id: sessionId ?? null,
        erased_at: at.toISOString(),
        erased
      }
      const details = { subject: report.subject, ...(owner === null ? {} : { user_pseudonym: owner }), erased }
      await audit({ actor, action: ERASE_ACTION, target: userPseudonym ?? sessionId, result: 'success', details })
      return { report, sessionIds }
    })
    this.options.onErased?.({ sessionIds: new Set(sessionIds), userId, userPseudonym })
    const logged = { subject: report.subject, target: userPseudonym ?? sessionId, ...report.erased }
    log('privacy', 'erase').info(logged, 'personal_data.erased')
    return report
  }

  /**
   * DELETE /v1/sessions/:id: the session, its messages, feedback and turn traces, as an erasure of
   * it (audited as session.delete); false if there was no such session. An id that was never a
   * session is not remembered: anyone may send one, and the memory would grow with them.
   */
  async deleteSession (id: string, actor: string): Promise<boolean> {
    const sessionId = id.toLowerCase()
    const deleted = await this.inTransaction(async (tx, audit) => {
      const { erased } = await this.eraseIn(tx, this.now(), { sessionId }, {
        evaluations: false,
        rememberAlways: false
      })
      const found = erased.sessions > 0
      await audit({ actor, action: 'session.delete', target: sessionId, result: found ? 'success' : 'failure' })
      return found
    })
    if (deleted) this.options.onErased?.({ sessionIds: new Set([sessionId]) })
    return deleted
  }

  /** Everything held about a user, audited (by pseudonym) before it is handed over. */
  async exportUser (userId: string, actor: string): Promise<UserDataExport> {
    const { db, sessionManager, transcript, evaluationStore } = this.options
    const userPseudonym = this.options.pseudonym(userId)
    const sessions = await sessionManager.listByUser(userId)
    const ids = sessions.map(session => session.id)
    const [transcripts, turnTraces, texts] = await Promise.all([
      transcript.exportOf(ids),
      turnTraceSummaries(db, { sessionIds: ids, userPseudonym }),
      evaluationStore === undefined ? [] : transcript.userTexts(db, ids)
    ])
    const questions = evaluationStore === undefined
      ? []
      : await evaluationStore.questionsTakenFrom(this.wordForms(texts))
    const details = { sessions: ids.length }
    const audited = { actor, action: EXPORT_ACTION, target: userPseudonym, result: 'success' as const, details }
    await this.options.auditTrail.record(audited)
    const empty = { messages: [], feedback: [] }
    return {
      user_id: userId,
      user_pseudonym: userPseudonym,
      exported_at: this.now().toISOString(),
      sessions: sessions.map(session => ({ ...sessionRecord(session), ...(transcripts.get(session.id) ?? empty) })),
      turn_traces: turnTraces,
      evaluation_questions: questions
    }
  }

  /**
   * Retention: deletes the conversations whose last turn is older than the cutoff, with their
   * messages, feedback and turn traces, a batch of sessions per transaction, letting the event loop
   * go between batches; audited once per run that deleted any. Sessions still active are kept.
   * An aborted signal stops it after the batch under way (the app is closing).
   */
  async deleteConversationsBefore (
    cutoff: Date, options: { batchSize?: number, signal?: AbortSignal } = {}
  ): Promise<RetentionCounts> {
    const { batchSize = RETENTION_BATCH, signal } = options
    const { db, sessionManager, transcript } = this.options
    const total = { sessions: 0, messages: 0, feedback: 0, turn_traces: 0 }
    for (;;) {
      const batch = await db.transaction(async tx => {
        const ids = await sessionManager.endedBefore(tx, cutoff, batchSize)
        const turnTraces = await deleteTurnTraces(tx, { sessionIds: ids })
        const { messages, feedback } = await transcript.deleteOf(tx, ids)
        const sessions = await sessionManager.deleteSessions(tx, ids)
        return { found: ids.length, sessions, messages, feedback, turn_traces: turnTraces }
      })
      total.sessions += batch.sessions
      total.messages += batch.messages
      total.feedback += batch.feedback
      total.turn_traces += batch.turn_traces
      if (batch.found < batchSize || signal?.aborted === true) break
      await yieldToEventLoop()
    }
    if (total.sessions > 0) {
      const details = { last_activity_before: cutoff.toISOString(), ...total }
      await this.options.auditTrail.record({
        actor: SERVICE_ACTOR,
        action: RETENTION_ACTION,
        result: 'success',
        details
      })
      log('privacy', 'retention').info(details, 'conversations.deleted_by_retention')
    }
    return total
  }

  /** Forgets erasures older than a day: nothing they kept out can still be in flight. */
  async forgetOldErasures (): Promise<number> {
    return await this.options.sessionManager.forgetErasuresBefore(new Date(this.now().getTime() - ERASURE_MEMORY_MS))
  }

  /**
   * The erasure's work in the caller's transaction: lock the sessions, then delete what the console
   * copied from them, their turn traces (and a user's failed turns'), feedback, messages and the
   * sessions themselves, remembered as erased.
   */
  private async eraseIn (tx: Queryable, at: Date, subject: ErasureSubject, options: EraseOptions): Promise<Erasing> {
    const { sessionManager, transcript, evaluationStore } = this.options
    const locked = await sessionManager.lockForErasure(tx, subject)
    // A session id erased is remembered even if no such session is stored (yet): a turn in flight
    // may be about to open it, or have failed in it, leaving a trace.
    const sessionIds = 'sessionId' in subject ? [subject.sessionId] : locked.map(session => session.id)
    const ownerId = 'sessionId' in subject ? locked[0]?.userId ?? null : null
    const userPseudonym = 'userId' in subject ? this.options.pseudonym(subject.userId) : undefined
    const taken = options.evaluations && evaluationStore !== undefined
      ? await evaluationStore.eraseTakenFrom(tx, this.wordForms(await transcript.userTexts(tx, sessionIds)))
      : { questions: 0, runs: 0 }
    const turnTraces = await deleteTurnTraces(tx, { sessionIds, userPseudonym })
    const { messages, feedback } = await transcript.deleteOf(tx, sessionIds)
    const remember = options.rememberAlways || locked.length > 0 ? at : undefined
    const sessions = await sessionManager.deleteSessions(tx, sessionIds, remember)
    const erased = {
      sessions,
      messages,
      feedback,
      turn_traces: turnTraces,
      evaluation_questions: taken.questions,
      evaluation_runs: taken.runs
    }
    return { sessionIds, owner: ownerId === null ? null : this.options.pseudonym(ownerId), erased }
  }

  /**
   * A user's words in every form an evaluation may hold them: as written (a question file copied
   * them), scrubbed (a saved question taken from them, as search_text), and scrubbed again (the
   * analyst who saved it was shown them scrubbed already).
   */
  private wordForms (texts: ReadonlyArray<{ content: string, scrubbed: string | null }>): string[] {
    const forms = new Set<string>()
    for (const { content, scrubbed } of texts) {
      const once = scrubbed ?? this.options.scrub(content)
      forms.add(content)
      forms.add(once)
      forms.add(this.options.scrub(once))
    }
    return [...forms]
  }

  /**
   * Runs fn in a transaction with its audit events, again while a row it must lock is in use (see
   * SessionManager.lockForErasure); 503 if it stays in use.
   */
  private async inTransaction<T> (fn: (tx: Queryable, audit: RecordInTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.options.auditTrail.transaction(this.options.db, fn)
      } catch (error) {
        if (!isLockBusy(error)) throw error
        if (attempt >= MAX_ATTEMPTS) {
          throw new ProblemError({
            status: 503,
            type: 'busy',
            title: 'Service Unavailable',
            detail: BUSY,
            retryAfterSeconds: 2
          })
        }
        await this.sleep(Math.min(MAX_BACKOFF_MS, 5 * 2 ** attempt))
      }
    }
  }
}
