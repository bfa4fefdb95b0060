// One place turns every error into RFC 9457 problem+json: 4xx say exactly what was wrong,
// 5xx say nothing about internals (the log has them, under the same request_id).
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import { ProblemError, fieldErrors } from '../src/errors.js'
import { databaseUnavailable, isConnectionError } from '../src/health/database-health.js'
import { errorLogFields } from '../src/logging/error-fingerprint.js'
import { describeIssues, withUnknownFields, type ValidationIssue } from '../src/http/validation-issues.js'
import { log } from '../src/logging/log-context.js'
import { problemOf, sendProblem, type Problem } from '../src/http/problem.js'

// Input that passed validation but that PostgreSQL cannot store (the transaction rolled back):
// SQLSTATE untranslatable_character, character_not_in_repertoire, statement_too_complex.
const UNSTORABLE: Record<string, string> = {
  '22P05': 'The request contains text that cannot be stored, such as a NUL character (U+0000); remove it and retry.',
  22021: 'The request contains text that cannot be stored, such as a NUL character (U+0000); remove it and retry.',
  54001: 'The request nests JSON too deeply to be stored; flatten the metadata and retry.'
}
// Stable problem types for Fastify's own 4xx errors, instead of its internal error codes.
const FASTIFY_TYPES: Record<string, string> = {
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid-content-length'
}

// A query string is validated for all its issues (plugins/validation.ts): a 400 names the first ten.
const MAX_ISSUES = 10

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The problem an error makes, logged when it is unexpected: the error handler sends it, and a
     * response already under way (a stream of events) ends with it.
     */
    problemOf: (failure: FastifyError, request: FastifyRequest, reply: FastifyReply) => Problem
  }
}

export default fp(async function errorHandlerPlugin (app) {
  app.decorate('problemOf', (failure: FastifyError, request: FastifyRequest, reply: FastifyReply): Problem => {
    // The database went away under this request: it is not the request's fault, nothing of it was
    // kept (its transaction did not commit), and retrying later will work.
    const error = isConnectionError(failure) ? databaseUnavailable(app.config.SHED_RETRY_AFTER) : failure
    if (error instanceof ProblemError) return problemOf(error)
    if (error.validation !== undefined) {
      const context = error.validationContext ?? 'request'
      const given = error.validation as ValidationIssue[]
      const bodySchema = request.routeOptions.schema?.body
      const issues = context === 'body' ? withUnknownFields(given, request.body, bodySchema) : given
      const errors = describeIssues(context, issues.slice(0, MAX_ISSUES))
      const detail = errors.map(e => `${e.field} ${e.message}`).join('; ')
      return { status: 400, slug: 'validation', detail, extensions: { errors } }
    }
    const unstorable = UNSTORABLE[error.code]
    if (unstorable !== undefined) return { status: 400, slug: 'unstorable-input', detail: unstorable }
    const status = error.statusCode ?? 500
    if (status === 413) {
      const limit = reply.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit
      const detail = `The request body exceeds the limit of ${limit} bytes.`
      const extensions = fieldErrors('body', `must be at most ${limit} bytes`)
      return { status, slug: 'body-too-large', detail, extensions }
    }
    if (status === 415) {
      const detail = `${error.message}. Send the body as application/json.`
      const extensions = fieldErrors('headers/content-type', 'must be application/json')
      return { status, slug: 'unsupported-media-type', detail, extensions }
    }
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      const extensions = fieldErrors('body', 'must not be empty: send a JSON object')
      return { status, slug: 'empty-body', detail: error.message, extensions }
    }
    if (status >= 400 && status < 500) {
      return { status, slug: FASTIFY_TYPES[error.code] ?? 'bad-request', detail: error.message }
    }
    const fields = errorLogFields(error)
    log('error_handler', 'onError', request.log)
      .error(fields, `unhandled ${fields.error_type}: ${fields.error_message}`)
    return {
      status: 500,
      slug: 'internal',
      detail: 'The server failed to handle this request. Quote the request_id to the operator.'
    }
  })

  app.setErrorHandler((failure: FastifyError, request, reply) => {
    const problem = app.problemOf(failure, request, reply)
    if (problem.retryAfterSeconds !== undefined) reply.header('retry-after', String(problem.retryAfterSeconds))
    return sendProblem(request, reply, problem.status, problem.slug, problem.detail, problem.extensions, problem.title)
  })

  // A path the API has, asked with a method it does not take, is the caller's mistake about the
  // method: 405 with the methods it takes (RFC 9110 §15.5.6), not a 404 saying the path is not there.
  // Fastify answers both with its not-found handler, so the routes are matched again here, by path.
  const routes = FindMyWay()
  const methods = new Set<HTTPMethod>()
  app.addHook('onRoute', route => {
    for (const method of [route.method].flat().map(name => name.toUpperCase() as HTTPMethod)) {
      if (method === 'HEAD') continue // Fastify adds one to every GET
      routes.on(method, route.url, () => {})
      methods.add(method)
    }
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!
    const allowed = [...methods].filter(method => routes.find(method, path) !== null)
    if (allowed.includes('GET')) allowed.push('HEAD')
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      return sendProblem(request, reply, 405, 'method-not-allowed',
        `${path} does not take ${request.method}; it takes ${allowed.join(', ')}.`)
    }
    sendProblem(request, reply, 404, 'route-not-found',
      `There is no route ${request.method} ${path}. The API is described at /docs.`)
  })
}, { name: 'error-handler', dependencies: ['config'] })
