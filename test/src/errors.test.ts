// The domain's errors carry what an RFC 9457 problem response needs: status, stable type, title,
// the detail as their message, extensions and, for limits, when to retry.
import t from 'tap'
import { BadRequestError, ConflictError, ErasedError, LimitExceededError, NotFoundError, ProblemError } from '../../src/errors.js'

t.test('ProblemError carries the problem, with its class as name', async t => {
  const error = new ProblemError({ status: 422, type: 'unprocessable', title: 'Unprocessable', detail: 'The plan is not for sale.', extensions: { plan: 'gold' }, retryAfterSeconds: 5 })
  t.ok(error instanceof Error)
  t.equal(error.name, 'ProblemError')
  t.equal(error.message, 'The plan is not for sale.')
  t.equal(error.statusCode, 422)
  t.equal(error.type, 'unprocessable')
  t.equal(error.title, 'Unprocessable')
  t.same(error.extensions, { plan: 'gold' })
  t.equal(error.retryAfterSeconds, 5)
  t.match(error.stack, /^ProblemError: The plan is not for sale\./)
  const bare = new ProblemError({ status: 500, type: 'x', title: 'X', detail: 'd' })
  t.same(bare.extensions, {}, 'no extensions: an empty object, never undefined')
  t.equal(bare.retryAfterSeconds, undefined)
})

t.test('a refusal (stack: false) captures no stack, and leaves the limit as it was', async t => {
  const limit = Error.stackTraceLimit
  const refusal = new ProblemError({ status: 503, type: 'overloaded', title: 'Service Unavailable', detail: 'Busy.', stack: false })
  t.equal(refusal.stack, 'ProblemError: Busy.', 'its name and detail, no frames')
  t.equal(Error.stackTraceLimit, limit)
  t.match(new ProblemError({ status: 400, type: 'x', title: 'X', detail: 'd' }).stack, /\n\s+at /, 'others keep theirs')
  t.notMatch(new LimitExceededError('turns_per_minute', 10, 6, 'Slow down.').stack, /\n\s+at /, 'a 429 is a refusal too')
})

t.test('each subclass: its status, type, title and extensions', async t => {
  const cases: Array<[ProblemError, string, number, string, string, Record<string, unknown>]> = [
    [new NotFoundError('document', 'faq-1'), 'NotFoundError', 404, 'not-found', 'Not Found', { resource: 'document', id: 'faq-1' }],
    [new BadRequestError('body/message must not be empty'), 'BadRequestError', 400, 'bad-request', 'Bad Request', {}],
    [new BadRequestError('bad k', { parameter: 'k' }), 'BadRequestError', 400, 'bad-request', 'Bad Request', { parameter: 'k' }],
    [new ConflictError('the document changed', { version: 3 }), 'ConflictError', 409, 'conflict', 'Conflict', { version: 3 }],
    [new LimitExceededError('sessions_per_minute', 10, 42, 'Too many new sessions.'), 'LimitExceededError', 429, 'limit-exceeded', 'Too Many Requests', { limit: 'sessions_per_minute', max: 10, retry_after_seconds: 42 }],
    [new ErasedError('the user was erased'), 'ErasedError', 409, 'erased', 'Conflict', {}]
  ]
  for (const [error, name, status, type, title, extensions] of cases) {
    t.ok(error instanceof ProblemError && error instanceof Error, `${name} is a ProblemError`)
    t.same({ name: error.name, status: error.statusCode, type: error.type, title: error.title, extensions: error.extensions }, { name, status, type, title, extensions }, name)
  }
})

t.test('NotFoundError words its detail, unless given one', async t => {
  t.equal(new NotFoundError('session', 'abc').message, 'session abc does not exist.')
  t.equal(new NotFoundError('session', 'abc', 'That conversation has ended.').message, 'That conversation has ended.')
})

t.test('only a limit says when to retry', async t => {
  t.equal(new LimitExceededError('turns', 5, 30, 'slow down').retryAfterSeconds, 30)
  for (const error of [new NotFoundError('a', 'b'), new BadRequestError('x'), new ConflictError('x'), new ErasedError('x')]) {
    t.equal(error.retryAfterSeconds, undefined, error.name)
  }
})

t.test('a subclass of a subclass is named after itself', async t => {
  class DocumentMissing extends NotFoundError {}
  const error = new DocumentMissing('document', 'x')
  t.equal(error.name, 'DocumentMissing')
  t.equal(error.statusCode, 404)
})
