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
  /** When the answer's Retry-After said to come back, in seconds from now. */
  readonly retryAfterSeconds: number | undefined

  constructor (status: number, detail: string, type?: string, retryAfterSeconds?: number) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.type = type
    this.retryAfterSeconds = retryAfterSeconds
  }
}

const text = (value: unknown): string | undefined => typeof value === 'string' && value !== '' ? value : undefined

/** The error for what a failed request answered: a problem body, or anything else (then `fallback`). */
export function problemError (status: number, body: unknown, fallback: string, retryAfterSeconds?: number): ApiError {
  const problem: Partial<Record<keyof Problem, unknown>> = typeof body === 'object' && body !== null ? body : {}
  return new ApiError(status, text(problem.detail) ?? fallback, text(problem.type), retryAfterSeconds)
}

// An HTTP date as senders write it (RFC 9110's IMF-fixdate): Date.parse alone reads "-1" as a year.
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/

/** Retry-After in seconds from `now`: its delay-seconds, or its HTTP date (RFC 9110, 10.2.3); else undefined. */
export function retryAfterSeconds (header: string | null, now = Date.now()): number | undefined {
  const value = header?.trim() ?? ''
  if (/^\d+$/.test(value)) return Number(value)
  if (!HTTP_DATE.test(value)) return undefined
  return Math.max(0, Math.ceil((Date.parse(value) - now) / 1000))
}

export async function responseError (response: Response): Promise<ApiError> {
  const type = response.headers.get('content-type') ?? ''
  const body: unknown = type.includes('json') ? await response.json().catch(() => undefined) : undefined
  const fallback = `The server answered ${response.status} ${response.statusText}`.trim()
  return problemError(response.status, body, fallback, retryAfterSeconds(response.headers.get('retry-after')))
}

export const hasStatus = (error: unknown, status: number): error is ApiError =>
  error instanceof ApiError && error.status === status

export const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)
