// Domain errors carry what an RFC 9457 problem response needs, so the domain can say
// precisely what went wrong without knowing about HTTP frameworks.
import Type, { type Static } from 'typebox'

export interface ProblemExtensions {
  [key: string]: unknown
}

export class ProblemError extends Error {
  readonly statusCode: number
  readonly type: string
  readonly title: string
  readonly extensions: ProblemExtensions
  readonly retryAfterSeconds: number | undefined

  constructor (options: {
    status: number
    type: string
    title: string
    detail: string
    extensions?: ProblemExtensions
    retryAfterSeconds?: number
    /**
     * false for a refusal made thousands of times a second past a limit (a 503 under load, a
     * 429): an answer, not a failure, whose stack no one reads, and whose capture took 7 % of
     * the main thread's CPU of a turn refused under load.
     */
    stack?: false
  }) {
    const stackTraceLimit = Error.stackTraceLimit
    if (options.stack === false) Error.stackTraceLimit = 0
    try {
      super(options.detail)
    } finally {
      Error.stackTraceLimit = stackTraceLimit
    }
    this.name = new.target.name
    this.statusCode = options.status
    this.type = options.type
    this.title = options.title
    this.extensions = options.extensions ?? {}
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

/** One field a problem is about, as a 400 lists them in `errors`: its path and what it must be. */
export const FieldErrorSchema = Type.Object({ field: Type.String(), message: Type.String() })
export type FieldError = Static<typeof FieldErrorSchema>

/** The `errors` extension of a problem about one field. */
export function fieldErrors (field: string, message: string): { errors: FieldError[] } {
  return { errors: [{ field, message }] }
}

export class NotFoundError extends ProblemError {
  constructor (what: string, id: string, detail = `${what} ${id} does not exist.`) {
    super({ status: 404, type: 'not-found', title: 'Not Found', detail, extensions: { resource: what, id } })
  }
}

export class BadRequestError extends ProblemError {
  constructor (detail: string, extensions?: ProblemExtensions) {
    super({ status: 400, type: 'bad-request', title: 'Bad Request', detail, extensions })
  }
}

/**
 * A 400 about one field of the request, which a schema cannot state (a date's range, a metadata's
 * depth): its path and what it must be, in `errors` as a schema's 400 lists them.
 */
export class InvalidFieldError extends BadRequestError {
  constructor (field: string, message: string, extensions?: ProblemExtensions) {
    super(`${field} ${message}`, { ...extensions, ...fieldErrors(field, message) })
  }
}

export class ConflictError extends ProblemError {
  constructor (detail: string, extensions?: ProblemExtensions) {
    super({ status: 409, type: 'conflict', title: 'Conflict', detail, extensions })
  }
}

export class LimitExceededError extends ProblemError {
  constructor (limit: string, max: number, retryAfterSeconds: number, detail: string) {
    super({
      status: 429,
      type: 'limit-exceeded',
      title: 'Too Many Requests',
      detail,
      extensions: { limit, max, retry_after_seconds: retryAfterSeconds },
      retryAfterSeconds,
      stack: false
    })
  }
}

/** What a request would have written belongs to data erased meanwhile, and is not written. */
export class ErasedError extends ProblemError {
  constructor (detail: string) {
    super({ status: 409, type: 'erased', title: 'Conflict', detail })
  }
}
