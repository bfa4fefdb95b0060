// The chat turn: resolve the session, parse the message, answer it (search or command), then
// persist both sides atomically (one statement, or one transaction when a session is created or
// ended with it). Nothing is written before the reply is known, and the turn is acknowledged only
// after it is stored, so a failure leaves no half-written turn.
import { randomUUID } from 'node:crypto'
import type { Database, Queryable } from '../db/database.js'
import {
  logParsed, reportedCommand, type ParsedMessage, type helpText, type parseMessage
} from '../commands/command-parser.js'
import { addLogFields, log, measureTurnParts, turnLineFields } from '../logging/log-context.js'
import type { LogPrivacy } from '../logging/log-privacy.js'
import type { SearchEngine, SearchHit } from '../search/search-engine.js'
import type { RecordInTransaction } from '../audit/audit-trail.js'
import type { Session, SessionManager, TurnMessages } from '../sessions/session-manager.js'
import { TurnWrites } from '../sessions/turn-writes.js'
import { SOURCE_LINE } from './chat-schemas.js'
import type { Instruments } from '../telemetry/metrics.js'
import { currentTraceId, inSpan } from '../telemetry/spans.js'
import { explainDecision, type AnswerWeights } from '../search/answer-decision.js'
import {
  toSource, type Decision, type Generation, type ReplyKind, type Source
} from '../transcript/transcript-schemas.js'
import type { TranscriptRepository } from '../transcript/transcript-repository.js'
import { decideReply, type SearchDecision, type SmallTalkDecision } from './reply-decision.js'
import { smallTalkReply } from './small-talk.js'
import { retrieve, type Explained } from '../search/retrieval.js'
import { runCommand, type CommandReply } from '../commands/command-runner.js'
import type { AnswerWriter } from '../llm/answer-writer.js'
import type { Outside } from '../health/turn-admission.js'
import { recordUserRating } from '../llm/user-rating.js'
import type { Span } from '@opentelemetry/api'

export interface TurnInput {
  message: string
  sessionId?: string
  userId?: string
  /** Who the caller is, for a session it opens (see SessionManager.create). */
  openedBy?: string
  /** Aborted when the caller went away: a model writing the answer stops. */
  signal?: AbortSignal
  /** The answer's text as the model writes it, for a caller that streams it. */
  onText?: (text: string) => void
  /** Runs the wait for the model with the turn's admission slot handed on (see TurnAdmission). */
  outside?: Outside
}

/** A turn's input with the session it is of, the new one's id already chosen. */
interface TurnContext extends TurnInput {
  conversationId: string
}

export interface TurnResult {
  sessionId: string
  turn: number
  kind: ReplyKind
  reply: string
  command?: string
  sources: Source[]
  /** A question's answer decision confidence (answer and no_answer). */
  confidence?: number
  generation?: Generation
}

interface Reply {
  kind: ReplyKind
  text: string
  command?: string
  sources: Source[]
  topScore: number | null
  /** A follow-up question's reply: the turn whose question it was searched with. */
  contextTurn?: number
  feedback?: CommandReply['feedback']
  reset?: boolean
  generation?: Generation
  /** A question's answer decision, kept with the reply: why it answered or refused. */
  decision?: Decision
}

const SOURCES_PER_ANSWER = 3
// A turn of one statement opens and ends no session, so it has nothing to audit.
const NO_AUDIT: RecordInTransaction = async () => {
  throw new Error('a turn outside a transaction cannot record an audit event')
}
// A source is named in a reply as whoever asks knows it, by its title: a document's id is the
// team's name for it, and in the reply's `sources` for the API's users.
const sourceName = (hit: { title: string, docId: string }): string => hit.title !== '' ? hit.title : hit.docId
// An answer's sources are the documents found, best first, the passages the model was given
// numbered in that order: which of them the reply quotes or cites is said, so that a page does not
// present a neighbour as the answer's source.
const citing = (sources: Source[], numbers: readonly number[]): Source[] =>
  sources.map((source, i) => ({ ...source, cited: numbers.includes(i + 1) }))
const NO_ANSWER = "I couldn't find an answer to that in the knowledge base."
// Said to whoever asks, a customer as much as the team: what they can do, in their words, not a
// command's (/search is in /help for those who want the closest documents).
const NO_ANSWER_HINT = 'Could you ask it in other words?'
// Messages that lean on the previous question: a continuation ("and what is the default?") or a
// pronoun standing for its topic ("how do I change it?"). Short ones only.
const FOLLOW_UP =
  /^(?:and|but|also|or|so|then|what about|how about)\b|\b(?:it|its|that|this|those|these|they|them|one)\b/i
const FOLLOW_UP_MAX_WORDS = 12

export interface ChatServiceOptions {
  db: Database
  sessionManager: SessionManager
  transcript: TranscriptRepository
  searchEngine: SearchEngine
  commandParser: { parse: typeof parseMessage, help: typeof helpText }
  /** What of the user the logs may show; without it, logs carry no user id and no chat text. */
  privacy?: LogPrivacy
  /**
   * Told of a turn rated down, by its trace id: its spans and log lines are kept
   * (TurnTraceRecorder.keep).
   */
  keepTrace?: (traceId: string) => void
  /** Where turns, feedback and searches are counted; nothing is counted without it. */
  instruments?: Pick<Instruments, 'turns' | 'feedback' | 'unanswered' | 'searchDuration' | 'searchResults'>
  /** The model that decides whether the best passage answers a question. */
  answerWeights?: AnswerWeights
  /** The collections whose documents answer questions now; all when it returns undefined. */
  answerCollections?: () => ReadonlySet<string> | undefined
  /** A language model that writes answers from the passages; without it, the passage is the answer. */
  answerWriter?: AnswerWriter
  now?: () => Date
}

export class ChatService {
  private readonly options: ChatServiceOptions
  private readonly now: () => Date
  private readonly turnWrites: TurnWrites

  constructor (options: ChatServiceOptions) {
    this.options = options
    this.now = options.now ?? (() => new Date())
    this.turnWrites = new TurnWrites({ sessionManager: options.sessionManager, db: options.db })
  }

  async handleTurn (input: TurnInput): Promise<TurnResult> {
    return await inSpan('chat.turn', {}, async span => {
      // Only slow statements are spans of their own (src/db/statement-timing.ts): the turn says
      // how long all of its took.
      const parts = measureTurnParts()
      try {
        return await this.turn(input, span)
      } finally {
        if (parts !== undefined) span.setAttribute('parley.database_ms', Math.round(parts.database_ms * 100) / 100)
      }
    })
  }

  /** Names the turn's user on its log lines (as LOG_USER_ID says) and on its span. */
  private nameUser (span: Span, userId: string | null): void {
    addLogFields({ user_id: this.options.privacy?.userId(userId) })
    // A span is read where an analyst reads it (a turn's trace, Jaeger): a pseudonym, whatever
    // LOG_USER_ID says.
    const pseudonym = this.options.privacy?.pseudonym(userId)
    if (pseudonym !== undefined) span.setAttribute('enduser.pseudo.id', pseudonym)
  }

  private async turn (input: TurnInput, span: Span): Promise<TurnResult> {
    const started = performance.now()
    // A session this turn opens is refused if its user was erased since (SessionManager.create).
    const startedAt = this.now()
    const { db, sessionManager, transcript } = this.options
    const userId = input.userId ?? null
    const logger = log('chat', 'handleTurn')
    // The search's results and answer decision, for this turn's chat.reply_sent (src/search/retrieval.ts).
    const searched = turnLineFields()
    this.nameUser(span, userId)
    addLogFields({ session_id: input.sessionId })
    const { sessionId } = input
    // No span of its own for resolving the session (its SELECT is a span, and the turn's span names
    // the session) nor for parsing (microseconds, whose outcome the turn's span names as
    // parley.command).
    const existing = sessionId === undefined ? undefined : await sessionManager.resume(sessionId, userId)
    // A later turn need not name its user again: the session's is the turn's, in its lines and span.
    if (userId === null && existing?.userId != null) this.nameUser(span, existing.userId)
    // A new session's id is chosen now, so that the model's span names the conversation from its
    // first turn.
    const conversationId = existing?.id ?? randomUUID()
    addLogFields({ session_id: conversationId })
    const parsed = this.options.commandParser.parse(input.message)
    const command = this.loggedCommand(parsed)
    addLogFields({ command })
    if (command !== undefined) span.setAttribute('parley.command', command)
    logParsed(parsed, text => this.options.privacy?.chatText(text))
    if (logger.isLevelEnabled('info')) {
      logger.info(
        { input: parsed.type, length: input.message.length, text: this.options.privacy?.chatText(input.message) },
        'chat.message_received'
      )
    }
    const reply = await this.reply(parsed, existing, { ...input, conversationId })

    // A turn of an existing session is one statement, which it may share with other sessions' turns
    // (TurnWrites); a new session, feedback or a reset need a transaction around theirs, so that a
    // failure keeps none of it.
    const alone = existing !== undefined && reply.feedback === undefined && reply.reset !== true
    const persist = async (db: Queryable, audit: RecordInTransaction): Promise<TurnResult> => {
      const opening = { id: conversationId, openedBy: input.openedBy, turnStartedAt: startedAt }
      const session = existing ?? await sessionManager.create(db, userId, audit, opening)
      const record = async (id: string, messages: TurnMessages): Promise<number> => alone
        ? await this.turnWrites.record(id, messages)
        : await sessionManager.recordTurn(db, id, messages)
      // The turn first: it locks the session's row, or finds it gone (deleted or erased meanwhile,
      // NotFoundError), before the rating would refer to a session no longer there.
      const turn = await record(session.id, {
        userText: input.message,
        reply: reply.text,
        kind: reply.kind,
        command: reply.command ?? null,
        sources: reply.sources,
        topScore: reply.topScore,
        latencyMs: performance.now() - started,
        contextTurn: reply.contextTurn,
        traceId: currentTraceId() ?? null,
        generation: reply.generation,
        decision: reply.decision
      })
      if (reply.feedback !== undefined) {
        const { turn: rated, rating, comment } = reply.feedback
        await transcript.recordFeedback(db, {
          sessionId: session.id, turn: rated, rating, comment, at: this.now()
        })
      }
      let result: TurnResult = {
        sessionId: session.id,
        turn,
        kind: reply.kind,
        reply: reply.text,
        sources: reply.sources,
        ...(reply.decision === undefined ? {} : { confidence: reply.decision.confidence }),
        ...(reply.generation === undefined ? {} : { generation: reply.generation })
      }
      if (reply.reset === true) {
        await sessionManager.end(db, session.id, 'reset')
        // The /reset turn stays in the closed session; the caller continues in the new one, which
        // has no turns yet.
        const next = await sessionManager.create(
          db, session.userId, audit, { openedBy: session.openedBy, turnStartedAt: startedAt }
        )
        result = { ...result, sessionId: next.id, turn: 0 }
      }
      return reply.command === undefined ? result : { ...result, command: reply.command }
    }
    // A turn of one statement has that statement's span; a transaction gets a span around its
    // statements.
    const outcome = alone
      ? await persist(db, NO_AUDIT)
      : await inSpan('reply.persist', {}, async () => await sessionManager.transaction(persist))
    addLogFields({ session_id: outcome.sessionId })
    span.setAttributes({
      'session.id': outcome.sessionId,
      'gen_ai.conversation.id': outcome.sessionId,
      'parley.reply.kind': outcome.kind,
      'parley.turn': outcome.turn
    })
    this.options.instruments?.turns.add(1, { kind: outcome.kind })
    if (outcome.kind === 'no_answer') {
      this.options.instruments?.unanswered.add(1, { topic: outcome.sources[0]?.doc_id ?? 'none' })
    }
    if (reply.feedback !== undefined) {
      this.options.instruments?.feedback.add(1, { rating: reply.feedback.rating })
      const { traceId, generation } = reply.feedback.rated
      if (traceId !== null && generation?.by === 'model' && generation.span_id !== undefined) {
        recordUserRating(
          { traceId, spanId: generation.span_id, responseId: generation.response_id, model: generation.model },
          reply.feedback.rating
        )
      }
      if (traceId !== null && reply.feedback.rating === 'down') this.options.keepTrace?.(traceId)
    }
    logger.info({
      kind: outcome.kind,
      sources: outcome.sources.length,
      top_score: reply.topScore,
      ...searched,
      rating: reply.feedback?.rating,
      rated_turn: reply.feedback?.turn,
      latency_ms: Math.round((performance.now() - started) * 10) / 10
    }, 'chat.reply_sent')
    return outcome
  }

  /** The command of a turn as logs and spans name it (the word typed is logged only as chat text). */
  private loggedCommand (parsed: ParsedMessage): string | undefined {
    if (parsed.type === 'command') return parsed.command.name
    if (parsed.type !== 'invalid' || parsed.command === undefined) return undefined
    return reportedCommand(parsed.command)
  }

  private async reply (parsed: ParsedMessage, session: Session | undefined, input: TurnContext): Promise<Reply> {
    if (parsed.type === 'question') return await this.answer(parsed.text, session, input)
    if (parsed.type === 'invalid') {
      // The parser's reason already names the closest command; the usage line shows the fix.
      const usage = parsed.usage === undefined ? '' : ` Usage: ${parsed.usage}`
      return {
        kind: 'command_error',
        text: `${parsed.reason}${usage}`,
        command: parsed.command,
        sources: [],
        topScore: null
      }
    }
    const { commandParser, transcript } = this.options
    const context = {
      help: commandParser.help,
      search: this.search.bind(this),
      collections: this.searchedCollections.bind(this),
      transcript
    }
    return await runCommand(parsed.command, session, context)
  }

  private async answer (question: string, session: Session | undefined, input: TurnContext): Promise<Reply> {
    const first = this.decide(question)
    if (first.kind === 'smalltalk') {
      return { kind: 'smalltalk', text: smallTalkReply(first.smallTalk), sources: [], topScore: null }
    }
    let decided = first
    let contextTurn: number | undefined
    let earlierQuestion: string | undefined
    // A follow-up is searched with the question before it, which holds its topic ("and what is the
    // default?"); the message alone is kept when the two together find no answer, and when no
    // passage holds any word it asks about: "what about bikes?" after "refund please" asks about
    // bikes, which a trial's FAQ called "bicycles", and 30 of 30 such turns were answered with the
    // refund policy. One word the knowledge base lacks among others ("how much is the fee for
    // that?", where no passage says "much") is no new subject.
    const newSubject = first.evidence.terms > 0 && first.evidence.unseen === 1
    if (session !== undefined && session.turnCount > 0 && looksLikeFollowUp(question) && !newSubject) {
      const previous = await this.options.transcript.previousQuestion(session.id)
      if (previous !== undefined) {
        // The message twice: its own words say what is asked, the previous question only its topic.
        const withContext = this.decide(`${previous.text} ${question} ${question}`)
        if (withContext.kind === 'answer') {
          decided = withContext
          contextTurn = previous.turn
          earlierQuestion = previous.text
        }
      }
    }
    const { kind, hits, why: decision } = decided
    const sources = hits.map(toSource)
    const topScore = hits[0]?.score ?? null
    const best = hits[0]
    if (kind === 'answer' && best !== undefined) {
      const extractive: Reply = {
        kind,
        text: `${decided.quote}${SOURCE_LINE}${sourceName(best)}`,
        sources: citing(sources, [1]),
        topScore,
        contextTurn,
        decision
      }
      if (this.options.answerWriter === undefined) return extractive
      return await this.written(this.options.answerWriter, { question, earlierQuestion }, hits, extractive, input)
    }
    const topics = hits.map(hit => hit.title).filter((title, i, titles) => title !== '' && titles.indexOf(title) === i)
    // An FAQ's titles are questions: run together, "…: Can I do yoga while pregnant? What if I
    // arrive late? I'm new, which class first? Could you…" read as one riddle in a trial, so
    // several are a list, a line each; one ends its sentence ("Refunds.", "Is there Wi-Fi?").
    const nearest = topics.length === 0
      ? ' '
      : topics.length === 1
        ? ` The nearest topic I know: ${topics[0]}${/[.?!]$/.test(topics[0]!) ? '' : '.'} `
        : ` The nearest topics I know:\n${topics.map(topic => `- ${topic}\n`).join('')}`
    return { kind: 'no_answer', text: `${NO_ANSWER}${nearest}${NO_ANSWER_HINT}`, sources, topScore, decision }
  }

  /**
   * The answer written by the language model from the passages found, citing them, or, when it
   * fails in any way, the extractive reply marked with why: a turn never fails for the model.
   */
  private async written (
    writer: AnswerWriter,
    asked: { question: string, earlierQuestion?: string },
    hits: SearchHit[],
    extractive: Reply,
    input: TurnContext
  ): Promise<Reply> {
    const write = async () => await writer.write({
      ...asked,
      passages: hits.map(hit => ({ title: hit.title, text: hit.passageText })),
      conversationId: input.conversationId,
      signal: input.signal,
      onText: input.onText
    })
    const result = input.outside === undefined ? await write() : await input.outside(write)
    const usage = result.usage === undefined
      ? {}
      : {
          input_tokens: result.usage.inputTokens,
          output_tokens: result.usage.outputTokens,
          cost_usd: result.usage.costUsd,
          ...(result.usage.estimated === true ? { usage_estimated: true } : {})
        }
    const timing = result.timeToFirstChunkMs === undefined
      ? {}
      : { time_to_first_chunk_ms: Math.round(result.timeToFirstChunkMs * 10) / 10 }
    const ids = {
      ...(result.responseId === undefined ? {} : { response_id: result.responseId }),
      ...(result.spanId === undefined ? {} : { span_id: result.spanId })
    }
    const about = { model: result.model, prompt: result.prompt, ...usage, ...timing, ...ids }
    if (!result.ok) {
      return { ...extractive, generation: { by: 'extractive', ...about, fallback_reason: result.reason } }
    }
    const cited = result.cited.map(number => `[${number}] ${sourceName(hits[number - 1]!)}`)
    return {
      ...extractive,
      text: `${result.text}\n\nSources: ${cited.join('; ')}`,
      sources: citing(extractive.sources, result.cited),
      generation: { by: 'model', ...about }
    }
  }

  /**
   * Small talk, or answer or no_answer with why, as bench:answers decides (decideReply): the
   * evidence goes on the retrieval span, the log line and the stored reply.
   */
  private decide (question: string): SmallTalkDecision | (SearchDecision & { why: Decision }) {
    const { searchEngine, answerWeights, answerCollections, instruments } = this.options
    let why: Decision | undefined
    const explain = (found: SearchDecision): Explained => {
      why = explainDecision(found.evidence, found.decision, answerWeights)
      return { decision: found.kind, why }
    }
    const decided = decideReply(searchEngine, question, {
      model: answerWeights,
      collections: answerCollections?.(),
      k: SOURCES_PER_ANSWER,
      observe: decide => retrieve(SOURCES_PER_ANSWER, decide, { instruments, explain })
    })
    // explain() ran: a reply that is not small talk was searched.
    return decided.kind === 'smalltalk' ? decided : { ...decided, why: why! }
  }

  /**
   * /search looks where questions are answered from (see KB_BUNDLED_DOCS), and --in narrows it to
   * one of those: a collection that answers no question is not there, as GET /v1/sources/:id finds
   * none of its documents.
   */
  private searchedCollections (): string[] {
    const answering = this.options.answerCollections?.()
    return [...this.options.searchEngine.collections().keys()]
      .filter(collection => answering === undefined || answering.has(collection)).sort()
  }

  private search (query: string, k: number, collection?: string): SearchHit[] {
    const scope = collection === undefined ? this.options.answerCollections?.() : new Set([collection])
    const search = () => ({ hits: this.options.searchEngine.search(query, k, scope) })
    return retrieve(k, search, { instruments: this.options.instruments }).hits
  }
}

function looksLikeFollowUp (question: string): boolean {
  return FOLLOW_UP.test(question) && question.split(/\s+/).length <= FOLLOW_UP_MAX_WORDS
}
