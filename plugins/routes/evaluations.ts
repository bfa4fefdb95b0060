// The knowledge base's accuracy, measured: run test questions (given, or the saved set) and get
// the report, list the runs (the trend), open one, and keep the saved question set. Twice: under
// /v1/kb for API keys (admin runs and edits, analyst reads), and under /console/api for the
// console's sign-in cookie (the same roles; the cookie is sent to /console paths only).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import Type from 'typebox'
import {
  QuestionsBody, RunParams, RunReportSchema, RunsPage, RunsQuery, SavedQuestionsPage, SaveQuestionsBody, QUESTION_LIMITS
} from '../../src/evaluation/evaluation-schemas.js'
import { toTestQuestion } from '../../src/evaluation/question-set.js'
import { NotFoundError } from '../../src/errors.js'
import { UUID_PATTERN, withProblems } from '../../src/http/schemas.js'
import { scrub } from '../../src/logging/scrubber.js'

// 5,000 questions of up to 4,000 characters do not fit the 64 KiB default.
const QUESTIONS_BODY_LIMIT = 32 * 1024 * 1024
const QuestionParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) })

interface Access {
  prefix: '/v1/kb' | '/console/api'
  read: onRequestAsyncHookHandler[]
  write: onRequestAsyncHookHandler[]
  tags: string[]
  /** Where saved questions come from when the body does not say. */
  source: 'api' | 'console'
}

/**
 * A question as the caller may read it: an analyst sees users' words scrubbed everywhere else, and
 * a question file's (or the API's) questions are often users' messages copied whole.
 */
function asSeenBy<Q extends { question: string }> (request: FastifyRequest, question: Q): Q {
  return request.principal?.role === 'admin' ? question : { ...question, question: scrub(question.question) }
}

function evaluationRoutes (access: Access): FastifyPluginAsyncTypebox {
  return async function (app) {
    const { prefix, tags } = access
    const security = [{ apiKey: [] }]

    app.post(`${prefix}/evaluations`, {
      config: { usesDatabase: true },
      onRequest: access.write,
      bodyLimit: QUESTIONS_BODY_LIMIT,
      schema: {
        tags,
        summary: `Run test questions (body/questions, up to ${QUESTION_LIMITS.perRun.toLocaleString('en-US')}, ` +
          'or the saved set when omitted) against the knowledge base as the chat turn decides them; ' +
          'the report is stored',
        security,
        body: QuestionsBody,
        response: withProblems({ 201: RunReportSchema }, 401, 403, 413, 415)
      }
    }, async (request, reply) => {
      const report = await app.kbEvaluations.run(request.body.questions?.map(toTestQuestion), request.actor)
      return reply.code(201).send(report)
    })

    app.get(`${prefix}/evaluations`, {
      config: { usesDatabase: true },
      onRequest: access.read,
      schema: {
        tags,
        summary: 'The latest runs, newest first, with their counts and accuracy (the trend)',
        security,
        querystring: RunsQuery,
        response: withProblems({ 200: RunsPage }, 401, 403)
      }
    }, async request => ({ runs: await app.kbEvaluations.store.listRuns(request.query.limit ?? 30) }))

    app.get(`${prefix}/evaluations/:id`, {
      config: { usesDatabase: true },
      onRequest: access.read,
      schema: {
        tags,
        summary: 'One run, question by question',
        security,
        params: RunParams,
        response: withProblems({ 200: RunReportSchema }, 401, 403, 404)
      }
    }, async request => {
      const run = await app.kbEvaluations.store.getRun(request.params.id)
      if (run === undefined) throw new NotFoundError('evaluation run', request.params.id)
      return { ...run, results: run.results.map(row => asSeenBy(request, row)) }
    })

    app.post(`${prefix}/evaluation-questions`, {
      config: { usesDatabase: true },
      onRequest: access.write,
      bodyLimit: QUESTIONS_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Add questions to the saved set ' +
          `(all or none; it holds up to ${QUESTION_LIMITS.perRun.toLocaleString('en-US')})`,
        security,
        body: SaveQuestionsBody,
        response: withProblems({ 201: SavedQuestionsPage }, 401, 403, 413, 415)
      }
    }, async (request, reply) => {
      const source = access.source === 'console' ? 'console' : request.body.source ?? 'api'
      // The console shows an analyst scrubbed text, and analysts read the saved set: a question
      // taken from a conversation is kept as scrubbed as they would see it.
      const questions = request.body.questions.map(toTestQuestion).map(question => source === 'console'
        ? { ...question, question: scrub(question.question) }
        : question)
      const added = await app.kbEvaluations.store.addQuestions(questions, request.actor, source)
      return reply.code(201).send({ questions: added, limit: QUESTION_LIMITS.perRun })
    })

    app.get(`${prefix}/evaluation-questions`, {
      config: { usesDatabase: true },
      onRequest: access.read,
      schema: {
        tags,
        summary: 'The saved question set, oldest first',
        security,
        response: withProblems({ 200: SavedQuestionsPage }, 401, 403)
      }
    }, async request => ({
      questions: (await app.kbEvaluations.store.listQuestions()).map(question => asSeenBy(request, question)),
      limit: QUESTION_LIMITS.perRun
    }))

    app.delete(`${prefix}/evaluation-questions/:id`, {
      config: { usesDatabase: true },
      onRequest: access.write,
      schema: {
        tags,
        summary: 'Remove a question from the saved set',
        security,
        params: QuestionParams,
        response: withProblems({ 204: Type.Null() }, 401, 403, 404)
      }
    }, async (request, reply) => {
      if (!await app.kbEvaluations.store.deleteQuestion(request.params.id, request.actor)) {
        throw new NotFoundError('evaluation question', request.params.id)
      }
      return await reply.code(204).send(null)
    })
  }
}

const evaluationsRoutes: FastifyPluginAsyncTypebox = async function (app) {
  await app.register(evaluationRoutes({
    prefix: '/v1/kb',
    read: [app.requireRole('admin', 'analyst')],
    write: [app.requireRole('admin')],
    tags: ['knowledge base'],
    source: 'api'
  }))
  await app.register(evaluationRoutes({
    prefix: '/console/api',
    read: [app.consoleAccess],
    write: [app.consoleAccess, app.consoleAdmin],
    tags: ['console'],
    source: 'console'
  }))
}

export default evaluationsRoutes
