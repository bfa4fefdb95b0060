// RFC 9457 problem+json, written the same way by the error handler and by the hooks that answer
// before a handler runs (auth): a stable type, the status's title, what exactly was wrong.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ProblemError } from '../errors.js'
import { scrub } from '../logging/scrubber.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'
const TYPE_PREFIX = 'urn:parley:problem:'
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  503: 'Service Unavailable'
}

/** What a problem response says: its status, stable type, detail and any extensions. */
export interface Problem {
  status: number
  slug: string
  detail: string
  extensions?: Record<string, unknown>
  title?: string
  retryAfterSeconds?: number
}

/** What a domain error says, as a response says it. */
export function problemOf (error: ProblemError): Problem {
  return {
    status: error.statusCode,
    slug: error.type,
    detail: error.message,
    extensions: error.extensions,
    title: error.title,
    retryAfterSeconds: error.retryAfterSeconds
  }
}

/**
 * The RFC 9457 body of a problem, for a response or for the last event of a stream already under
 * way: the request's url and id (a Fastify request, or the refusal door's).
 */
export function problemBody (request: Pick<FastifyRequest, 'url' | 'id'>, problem: Problem): Record<string, unknown> {
  const { status, slug, detail, extensions = {}, title } = problem
  return {
    type: `${TYPE_PREFIX}${slug}`,
    title: title ?? TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error'),
    status,
    detail,
    instance: request.url.split('?')[0],
    request_id: request.id,
    ...extensions
  }
}

export function sendProblem (
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  slug: string,
  detail: string,
  extensions: Record<string, unknown> = {},
  title?: string
): FastifyReply {
  // The caller's mistake, named on the request's line (a 5xx's cause is on its error line instead);
  // scrubbed, since a detail may quote a path or a value the caller sent.
  if (status < 500 && request.logFields !== null) request.logFields.problem = scrub(`${slug}: ${detail}`)
  // The status line in RFC 9110's words, as the title: Node's still says 413 "Payload Too Large".
  const reason = TITLES[status]
  if (reason !== undefined) reply.raw.statusMessage = reason
  return reply.code(status).type(PROBLEM_CONTENT_TYPE)
    .send(problemBody(request, { status, slug, detail, extensions, title }))
}
