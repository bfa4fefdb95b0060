// HTTP schemas shared by several routes. Route-specific schemas sit next to their routes.
import Type, { type TSchema } from 'typebox'
import { FieldErrorSchema, InvalidFieldError } from '../errors.js'

export const ProblemDetails = Type.Object({
  type: Type.String({ description: 'URI naming the kind of problem' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String({ description: 'What exactly was wrong, naming the field and the limit where there is one' }),
  instance: Type.String({ description: 'The request path' }),
  request_id: Type.String({ description: 'Quote it to an operator: it finds the request in the logs' }),
  errors: Type.Optional(Type.Array(FieldErrorSchema)),
  limit: Type.Optional(Type.String()),
  max: Type.Optional(Type.Number()),
  retry_after_seconds: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String({ description: 'Why a 503 refused the request (load shedding)' })),
  resource: Type.Optional(Type.String()),
  id: Type.Optional(Type.String()),
  question_index: Type.Optional(Type.Integer({ description: 'Which question of a run (from 0) a 400 is about' })),
  document_id: Type.Optional(Type.String({ description: 'The document a 400 names, such as one a question expects' }))
}, { $id: 'ProblemDetails', description: 'RFC 9457 problem details' })

// A 400 says in words what a value breaking a pattern must be, not the regular expression: each
// pattern a request is checked against is given its words where it is defined.
const PATTERN_MESSAGES = new Map<string, string>()

/** The pattern, with what a 400 says of a value that breaks it ("must be a UUID such as …"). */
export function describedPattern (pattern: string, message: string): string {
  PATTERN_MESSAGES.set(pattern, message)
  return pattern
}

/** What a 400 says of a value that breaks the pattern; undefined for one never described. */
export const patternMessage = (pattern: string): string | undefined => PATTERN_MESSAGES.get(pattern)

// A plain 8-4-4-4-12 hex UUID: Ajv's uuid format also admits urn:uuid:… forms, which PostgreSQL refuses.
export const UUID_PATTERN = describedPattern('^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$',
  'must be a UUID such as 0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b')
const UUID = new RegExp(UUID_PATTERN)
/** Whether the text is a UUID as UUID_PATTERN has it: one PostgreSQL reads as a uuid. */
export const isUuid = (text: string): boolean => UUID.test(text)

// PostgreSQL text cannot hold NUL (U+0000), so text that will be stored refuses it up front.
export const NO_NUL = describedPattern('^[^\\u0000]*$', 'must not contain NUL characters (U+0000)')
export const NOT_BLANK_NO_NUL = describedPattern('^(?=[^\\u0000]*$)[\\s\\S]*\\S',
  'must not be blank or contain NUL characters (U+0000)')

export const UserId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: NO_NUL,
  description: 'The client\'s own identifier for the user; caps sessions per user'
})

const problemRef = Type.Ref('ProblemDetails')

/** Response schemas for the error statuses a route can answer, next to its success schemas. */
export function withProblems<R extends Record<number, TSchema>> (
  success: R,
  ...statuses: number[]
): R & Record<number, TSchema> {
  const responses: Record<number, TSchema> = { ...success }
  // Any route but a probe may be shed under overload (plugins/load-shedding.ts): 503.
  for (const status of [400, 500, 503, ...statuses]) responses[status] = problemRef
  return responses as R & Record<number, TSchema>
}

export const SessionId = Type.String({ pattern: UUID_PATTERN, description: 'A session id (UUID)' })

// Both engines store timestamps of years 1 to 294276 (year 0 was a 500 on PGlite), and a period is
// compared with the one before it: dates a query may name stay well inside that.
export const EARLIEST_DATE = new Date('1970-01-01T00:00:00Z')
export const LATEST_DATE = new Date('9999-12-31T23:59:59Z')

/** The date a query names, or a 400 naming the field and the bound it is past. */
export function boundedDate (field: string, value: string): Date {
  const date = new Date(value)
  if (date < EARLIEST_DATE) throw new InvalidFieldError(field, `must be on or after ${EARLIEST_DATE.toISOString()}`)
  if (date > LATEST_DATE) throw new InvalidFieldError(field, `must be on or before ${LATEST_DATE.toISOString()}`)
  return date
}
