// What the transcript holds, as the API, the console and a user's export show it: each message's
// reply kind, sources, answer decision and how a language model wrote it. Written once, here;
// routes and pages take their types from these schemas.
import Type, { type Static } from 'typebox'
import { REFUSAL_RULES } from '../search/answer-decision.js'
import type { SearchHit } from '../search/search-engine.js'

/** The longest message a user may send (POST /v1/chat): what the console may read of one whole. */
export const MESSAGE_MAX_CHARACTERS = 4000

export const ReplyKindSchema = Type.Union([
  Type.Literal('answer'),
  Type.Literal('no_answer'),
  Type.Literal('smalltalk'),
  Type.Literal('command'),
  Type.Literal('command_error')
], {
  description: 'no_answer: the knowledge base does not answer it; ' +
    'smalltalk: a greeting, thanks, goodbye, a plain yes or ok, or a question about the bot itself'
})
export type ReplyKind = Static<typeof ReplyKindSchema>

/** A document a reply drew on, as the API and the transcript show it. */
export const SourceSchema = Type.Object({
  doc_id: Type.String(),
  title: Type.String(),
  score: Type.Number({ description: 'BM25 score: higher is better; comparable only within one search' }),
  snippet: Type.String(),
  cited: Type.Optional(Type.Boolean({
    description: 'In an answer: true for the documents the reply quotes or cites, false for the others found'
  }))
})
export type Source = Static<typeof SourceSchema>

/**
 * Why a question was answered or refused: the answer decision's confidence, its threshold, the rule
 * that refused it if one did, and the measures it read (src/search/answer-decision.ts).
 */
export const DecisionSchema = Type.Object({
  confidence: Type.Number(),
  threshold: Type.Number(),
  refused_by: Type.Optional(Type.Enum(REFUSAL_RULES, {
    description: 'The rule that refused the question before the model was read (its confidence is then 0): ' +
      'no_shared_word, no word of the question in the passage; everyday_words, a question of everyday words ' +
      'alone sharing none with the entry\'s question or its phrasings'
  }))
}, {
  additionalProperties: Type.Number(),
  description: 'The answer decision: its confidence, the threshold it was held to, the rule that refused it if one ' +
    'did, and the measures it read (coverage, unseen, mutual, relative_score...)'
})
export type Decision = Static<typeof DecisionSchema>

/** How an answer was written, when a language model is configured: by it, or from the passage after it failed. */
export const GenerationSchema = Type.Object({
  by: Type.Union([Type.Literal('model'), Type.Literal('extractive')], {
    description: 'extractive: the model failed (fallback_reason says why) and the passage itself is the answer'
  }),
  model: Type.String(),
  prompt: Type.String({ description: 'The prompt\'s id@version' }),
  fallback_reason: Type.Optional(Type.String()),
  input_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  output_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  cost_usd: Type.Optional(Type.Number({
    minimum: 0,
    description: 'From LLM_PRICE_INPUT_PER_MTOK and LLM_PRICE_OUTPUT_PER_MTOK'
  })),
  usage_estimated: Type.Optional(Type.Boolean({
    description: 'The tokens were counted from characters (four a token): the endpoint sent no usage, ' +
      'for a call given up, cut off, or to an endpoint that never sends it'
  })),
  time_to_first_chunk_ms: Type.Optional(Type.Number({ minimum: 0 })),
  response_id: Type.Optional(Type.String({ description: 'The provider\'s id of the answer (gen_ai.response.id)' })),
  span_id: Type.Optional(Type.String({
    pattern: '^[0-9a-f]{16}$',
    description: 'The model call\'s span in the turn\'s trace; a rating of the answer is recorded under it'
  }))
})
export type Generation = Static<typeof GenerationSchema>

/** One message as the API shows it (GET /v1/sessions/:id/messages, and a user's export). */
export const MessageRecord = Type.Object({
  turn: Type.Integer(),
  role: Type.Union([Type.Literal('user'), Type.Literal('bot')]),
  content: Type.String(),
  kind: Type.Union([ReplyKindSchema, Type.Null()]),
  command: Type.Union([Type.String(), Type.Null()]),
  sources: Type.Array(SourceSchema),
  context_turn: Type.Union([Type.Integer(), Type.Null()], {
    description: 'For the reply to a follow-up question: the turn whose question it was searched with'
  }),
  created_at: Type.String({ format: 'date-time' })
})
export type MessageRecordType = Static<typeof MessageRecord>

/** A rating of an answer, as a user's export shows it. */
export const FeedbackRecord = Type.Object({
  turn: Type.Integer({ description: 'The turn rated' }),
  rating: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  comment: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' })
})
export type FeedbackRecordType = Static<typeof FeedbackRecord>

/** A search hit as a reply's source, in the API's field names. */
export function toSource (hit: SearchHit): Source {
  return { doc_id: hit.docId, title: hit.title, score: hit.score, snippet: hit.snippet }
}
