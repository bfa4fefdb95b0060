// The test questions a team keeps and the reports of running them, as TypeBox schemas: the routes
// validate and serialise with them, the CLI reads the same reports, and the console imports their
// Static types, so none of them can drift from the others. No runtime imports beyond TypeBox, so
// the pages can take the types without bundling the search engine.
import Type, { type Static } from 'typebox'
import { DOCUMENT_LIMITS } from '../kb/document-files.js'
import { NOT_BLANK_NO_NUL, NO_NUL, UUID_PATTERN } from '../http/schemas.js'

/** The limits a question file and a request share; the errors name them. */
export const QUESTION_LIMITS = {
  questionMax: 4000,
  /** Questions in one run, and in the saved set (so the saved set always fits one run). */
  perRun: 5000,
  /** Expected document ids of one question. */
  expectedMax: 20,
  labelMax: 200
} as const

/** "none" where a document id is expected means: out of scope, the bot should refuse it. */
export const OUT_OF_SCOPE = 'none'

const DocumentId = Type.String({ pattern: DOCUMENT_LIMITS.idPattern, description: 'A document id' })

export const ExpectedSchema = Type.Union([
  DocumentId,
  Type.Array(DocumentId, { minItems: 1, maxItems: QUESTION_LIMITS.expectedMax }),
  Type.Null()
], {
  description: 'The document that should answer (any of several ids), or null / "none" when the question is out of ' +
    'scope and should be refused'
})

export const QuestionInputSchema = Type.Object({
  question: Type.String({ minLength: 1, maxLength: QUESTION_LIMITS.questionMax, pattern: NOT_BLANK_NO_NUL }),
  expected: ExpectedSchema,
  id: Type.Optional(Type.String({
    minLength: 1,
    maxLength: QUESTION_LIMITS.labelMax,
    pattern: NO_NUL,
    description: 'The team\'s own label for the question, shown in the report'
  }))
}, { additionalProperties: false })
export type QuestionInput = Static<typeof QuestionInputSchema>

export const QuestionsBody = Type.Object({
  questions: Type.Optional(Type.Array(QuestionInputSchema, {
    minItems: 1,
    maxItems: QUESTION_LIMITS.perRun,
    description: 'The questions to run; without it, the saved question set'
  }))
}, { additionalProperties: false })
export type QuestionsBodyType = Static<typeof QuestionsBody>

export const OUTCOMES = ['answered_right', 'wrong_document', 'refused_but_answerable', 'out_of_scope_refused'] as const
export const OutcomeSchema = Type.Enum(OUTCOMES, {
  description: 'answered_right: answered from an expected document; ' +
    'wrong_document: answered from another one, or answered a question expected to be refused; ' +
    'refused_but_answerable: no_answer or small talk where a document was expected; ' +
    'out_of_scope_refused: refused, as expected'
})
export type Outcome = Static<typeof OutcomeSchema>

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])

export const ResultRowSchema = Type.Object({
  id: Nullable(Type.String({ description: 'The question\'s label (the file\'s id, or the saved question\'s id)' })),
  question: Type.String(),
  expected: Type.Array(Type.String(), {
    description: 'Expected document ids; empty when the question is out of scope'
  }),
  outcome: OutcomeSchema,
  kind: Type.Enum(['answer', 'no_answer', 'smalltalk'], { description: 'What the chat turn would have replied' }),
  doc_id: Nullable(Type.String({ description: 'The document answered from (answer), or the nearest one (no_answer)' })),
  confidence: Nullable(Type.Number({ description: 'The answer decision\'s confidence (0 to 1); null for small talk' }))
})
export type ResultRow = Static<typeof ResultRowSchema>

export const CountsSchema = Type.Object({
  answered_right: Type.Integer(),
  wrong_document: Type.Integer(),
  refused_but_answerable: Type.Integer(),
  out_of_scope_refused: Type.Integer()
})
export type Counts = Static<typeof CountsSchema>

const RunFields = {
  id: Type.String({ pattern: UUID_PATTERN }),
  started_at: Type.String({ format: 'date-time' }),
  finished_at: Type.String({ format: 'date-time' }),
  actor: Type.String({ description: 'Who ran it: an API key\'s id, or the CLI' }),
  question_set: Type.Enum(['given', 'saved'], { description: 'Questions sent with the run, or the saved set' }),
  questions: Type.Integer(),
  counts: CountsSchema,
  accuracy: Type.Number({ description: '(answered_right + out_of_scope_refused) / questions' }),
  answer_rate: Nullable(Type.Number({
    description: 'Answered (rightly or not) among the questions a document was expected for; null when there were none'
  })),
  documents: Type.Integer({ description: 'Documents in the collections that answer questions, when it ran' }),
  previous_accuracy: Nullable(Type.Number({
    description: 'The accuracy of the last run before it of the same questions, expecting the same documents; ' +
      'null when there is none'
  }))
}
export const RunSummarySchema = Type.Object(RunFields)
export type RunSummary = Static<typeof RunSummarySchema>

export const RunReportSchema = Type.Object({ ...RunFields, results: Type.Array(ResultRowSchema) })
export type RunReport = Static<typeof RunReportSchema>

export const RunsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 30 }))
}, { additionalProperties: false })
export type RunsQueryType = Static<typeof RunsQuery>
export const RunParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) })
export const RunsPage = Type.Object({ runs: Type.Array(RunSummarySchema, { description: 'Newest first' }) })
export type RunsPageType = Static<typeof RunsPage>

export const QUESTION_SOURCES = ['console', 'import', 'api'] as const
export const SavedQuestionSchema = Type.Object({
  id: Type.String({ pattern: UUID_PATTERN }),
  question: Type.String(),
  expected: Type.Array(Type.String(), { description: 'Expected document ids; empty when out of scope' }),
  added_at: Type.String({ format: 'date-time' }),
  added_by: Type.String(),
  source: Type.Enum(QUESTION_SOURCES)
})
export type SavedQuestion = Static<typeof SavedQuestionSchema>

export const SaveQuestionsBody = Type.Object({
  questions: Type.Array(QuestionInputSchema, { minItems: 1, maxItems: QUESTION_LIMITS.perRun }),
  source: Type.Optional(Type.Enum(['import', 'api'], { description: 'Where they came from (default api)' }))
}, { additionalProperties: false })
export type SaveQuestionsBodyType = Static<typeof SaveQuestionsBody>
export const SavedQuestionsPage = Type.Object({
  questions: Type.Array(SavedQuestionSchema),
  limit: Type.Integer({ description: 'How many the saved set may hold' })
})
export type SavedQuestionsPageType = Static<typeof SavedQuestionsPage>
