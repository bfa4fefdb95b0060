// "How is the bot used, and what does it fail to answer?": turns, sessions, users, commands,
// answer rate and feedback from the chat events in chatbot.log, and the unanswered questions
// grouped by the words that matter, so the knowledge base can be improved where users need it.
import Type, { type Static } from 'typebox'
import { analyze } from '../search/text-analysis.js'
import { emptyStats, scanLogs, type Period, type ScanStats } from './log-scan.js'

export const UnansweredQuestionSchema = Type.Object({
  example: Type.String(),
  count: Type.Integer(),
  variants: Type.Integer({ description: 'Distinct wordings grouped under the example' })
})
export type UnansweredQuestion = Static<typeof UnansweredQuestionSchema>

/** The usage figures, alike from the log files (the CLI) and from the database (the API). */
export const ModelUsageSchema = Type.Object({
  calls: Type.Integer({ description: 'Answers the language model was asked to write' }),
  written: Type.Integer({ description: 'Of them, answers it wrote; the others fell back to the passage' }),
  fallbacks: Type.Record(Type.String(), Type.Integer(), { description: 'Fallbacks by reason' }),
  input_tokens: Type.Integer(),
  output_tokens: Type.Integer(),
  cost_usd: Type.Number({ description: 'From LLM_PRICE_INPUT_PER_MTOK and LLM_PRICE_OUTPUT_PER_MTOK' })
})
export type ModelUsage = Static<typeof ModelUsageSchema>

/** Adds calls of one outcome (a fallback reason, or none for written) to the model's figures. */
export function addModelCalls (usage: ModelUsage | undefined, calls: {
  count: number
  reason?: string
  inputTokens?: number
  outputTokens?: number
  costUsd?: number
}): ModelUsage {
  const total = usage ?? { calls: 0, written: 0, fallbacks: {}, input_tokens: 0, output_tokens: 0, cost_usd: 0 }
  total.calls += calls.count
  if (calls.reason === undefined) total.written += calls.count
  else total.fallbacks[calls.reason] = (total.fallbacks[calls.reason] ?? 0) + calls.count
  total.input_tokens += calls.inputTokens ?? 0
  total.output_tokens += calls.outputTokens ?? 0
  total.cost_usd += calls.costUsd ?? 0
  return total
}

export const UsageFiguresSchema = Type.Object({
  turns: Type.Integer(),
  turns_by_kind: Type.Record(Type.String(), Type.Integer()),
  // Written out, not spread from a shared Type.Optional: a spread copy loses its optional mark, and
  // the response schema then required answer_rate, a 500 for any period without a question.
  answer_rate: Type.Optional(Type.Number({ description: 'answer / (answer + no_answer); absent without questions' })),
  sessions_started: Type.Integer(),
  sessions_active: Type.Integer({ description: 'Sessions with a turn in the period' }),
  active_users: Type.Integer({ description: 'Distinct user_ids with a turn in the period' }),
  turns_per_session: Type.Optional(Type.Number()),
  commands: Type.Record(Type.String(), Type.Integer()),
  feedback: Type.Object({ up: Type.Integer(), down: Type.Integer() }),
  unanswered: Type.Array(UnansweredQuestionSchema, {
    description: 'Top unanswered questions (scrubbed), most asked first'
  }),
  unanswered_without_text: Type.Integer(),
  language_model: Type.Optional({
    ...ModelUsageSchema,
    description: 'The language model\'s calls, tokens and cost; absent when it was asked nothing in the period'
  })
})
export type UsageFigures = Static<typeof UsageFiguresSchema>

export interface UsageReport extends UsageFigures {
  period: Period
  stats: ScanStats
}

export const TOP_QUESTIONS = 10
// Questions waiting for their reply line, by req_id: a turn's two lines are close together.
const MAX_PENDING = 10_000
const CHAT_EVENT = /"msg":"(chat\.message_received|chat\.reply_sent|session\.created|llm\.answer_written|llm\.fallback)"/

/** Two questions are alike when most of their analysed terms are shared (Jaccard ≥ 0.5). */
function alike (a: Set<string>, b: Set<string>): boolean {
  let shared = 0
  for (const term of a) if (b.has(term)) shared++
  return shared / (a.size + b.size - shared) >= 0.5
}

export function groupQuestions (texts: Map<string, number>): UnansweredQuestion[] {
  const groups: Array<{ terms: Set<string>, count: number, variants: Map<string, number> }> = []
  // The most asked first, so each group is named after its most common wording.
  for (const [text, count] of [...texts].sort((a, b) => b[1] - a[1])) {
    const terms = new Set(analyze(text))
    const group = terms.size === 0 ? undefined : groups.find(candidate => alike(candidate.terms, terms))
    if (group === undefined) groups.push({ terms, count, variants: new Map([[text, count]]) })
    else {
      group.count += count
      group.variants.set(text, count)
    }
  }
  return groups.sort((a, b) => b.count - a.count).slice(0, TOP_QUESTIONS)
    .map(group => ({
      example: [...group.variants].sort((a, b) => b[1] - a[1])[0]![0],
      count: group.count,
      variants: group.variants.size
    }))
}

export async function analyzeUsage (options: {
  dir: string
  period: Period
  onProgress?: (done: number, total: number) => void
}): Promise<UsageReport> {
  const stats = emptyStats()
  const byKind: Record<string, number> = {}
  const commands: Record<string, number> = {}
  // The latest rating of a turn counts, as in the database (a rating replaces the one before):
  // by session and rated turn, or, on lines written before they named it, each rating on its own.
  const ratings = new Map<string, 'up' | 'down'>()
  let unkeyedRatings = 0
  const sessions = new Set<string>()
  const users = new Set<string>()
  const pending = new Map<string, string | undefined>()
  const unansweredTexts = new Map<string, number>()
  let unansweredWithoutText = 0
  let sessionsStarted = 0
  let turns = 0
  let languageModel: ModelUsage | undefined

  const entries = scanLogs({
    dir: options.dir,
    families: ['chatbot'],
    period: options.period,
    wanted: line => CHAT_EVENT.test(line),
    onProgress: options.onProgress
  }, stats)
  for await (const entry of entries) {
    const reqId = typeof entry.req_id === 'string' ? entry.req_id : undefined
    if (entry.msg === 'session.created') {
      sessionsStarted++
    } else if (entry.msg === 'llm.answer_written' || entry.msg === 'llm.fallback') {
      const number = (value: unknown): number | undefined => typeof value === 'number' ? value : undefined
      languageModel = addModelCalls(languageModel, {
        count: 1,
        reason: entry.msg === 'llm.fallback' ? String(entry.reason) : undefined,
        inputTokens: number(entry.input_tokens),
        outputTokens: number(entry.output_tokens),
        costUsd: number(entry.cost_usd)
      })
    } else if (entry.msg === 'chat.message_received') {
      if (reqId === undefined) continue
      if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!)
      pending.set(reqId, typeof entry.text === 'string' && entry.input === 'question' ? entry.text : undefined)
    } else {
      turns++
      const kind = typeof entry.kind === 'string' ? entry.kind : 'unknown'
      byKind[kind] = (byKind[kind] ?? 0) + 1
      if (typeof entry.session_id === 'string') sessions.add(entry.session_id)
      if (typeof entry.user_id === 'string') users.add(entry.user_id)
      if (typeof entry.command === 'string') commands[entry.command] = (commands[entry.command] ?? 0) + 1
      if (entry.rating === 'up' || entry.rating === 'down') {
        const key = typeof entry.rated_turn === 'number'
          ? `${String(entry.session_id)}:${entry.rated_turn}`
          : `line:${unkeyedRatings++}`
        ratings.set(key, entry.rating)
      }
      const text = reqId === undefined ? undefined : pending.get(reqId)
      if (reqId !== undefined) pending.delete(reqId)
      if (kind === 'no_answer') {
        if (text === undefined) unansweredWithoutText++
        else unansweredTexts.set(text, (unansweredTexts.get(text) ?? 0) + 1)
      }
    }
  }
  const questions = (byKind.answer ?? 0) + (byKind.no_answer ?? 0)
  const feedback = { up: 0, down: 0 }
  for (const rating of ratings.values()) feedback[rating]++
  return {
    period: options.period,
    turns,
    turns_by_kind: byKind,
    answer_rate: questions === 0 ? undefined : (byKind.answer ?? 0) / questions,
    sessions_started: sessionsStarted,
    sessions_active: sessions.size,
    active_users: users.size,
    turns_per_session: sessions.size === 0 ? undefined : turns / sessions.size,
    commands,
    feedback,
    unanswered: groupQuestions(unansweredTexts),
    unanswered_without_text: unansweredWithoutText,
    language_model: languageModel,
    stats
  }
}
