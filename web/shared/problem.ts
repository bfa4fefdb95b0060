// Every failed request as one error: an ApiError with the status and the RFC 9457 problem's
// `detail` (what the API says went wrong, naming the field or the limit), for the page to show as
// it is. An answer that is not a problem (a proxy's HTML page) still says its status.
import type { Static } from 'typebox'
import type { ProblemDetails } from '../../src/http/schemas.js'

export type Problem = Static<typeof ProblemDetails>

export class ApiError extends Error {
  /** 0 when no answer came: the server could not be reached, or the stream was cut off. */
  readonly status: number
  /** The problem's type (urn:parley:problem:…), when the answer was a problem. */
  readonly type: string | undefined

  constructor (status: number, detail: string, type?: string) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.type = type
  }
}

const text = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

/** The error for what a failed request answered: a problem body, or anything else (then `fallback`). */
export function problemError (status: number, body: unknown, fallback: string): ApiError {
  const problem: Partial<Record<keyof Problem, unknown>> = typeof body === 'object' && body !== null ? body : {}
  return new ApiError(status, text(problem.detail) ?? fallback, text(problem.type))
}

export async function responseError (response: Response): Promise<ApiError> {
  const type = response.headers.get('content-type') ?? ''
  const body: unknown = type.includes('json') ? await response.json().catch(() => undefined) : undefined
  return problemError(response.status, body, `The server answered ${response.status} ${response.statusText}`.trim())
}

export const hasStatus = (error: unknown, status: number): error is ApiError =>
  error instanceof ApiError && error.status === status

export const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)
