import t from 'tap'
import { ApiError } from '../../../web/shared/problem.js'
import { RETRY_BUDGET_MS, retryDelayMs, turnFailureText, withRetries } from '../../../web/shared/retry.js'

const refused = (status: number, retryAfterSeconds?: number): ApiError => new ApiError(status, 'refused', undefined, retryAfterSeconds)

t.test('a 503 or 429 with Retry-After is retried after it, stretched by up to a fifth', async t => {
  t.equal(retryDelayMs(refused(503, 5), 0, () => 0), 5000)
  t.equal(retryDelayMs(refused(503, 5), 0, () => 0.999), 5999)
  t.equal(retryDelayMs(refused(429, 2), 0, () => 0.5), 2200)
  t.equal(retryDelayMs(refused(503, 0), 0, () => 0.5), 0, 'Retry-After: 0 is at once')
})

t.test('nothing else is retried: the turn may have been kept, or the server did not say when', async t => {
  t.equal(retryDelayMs(refused(503), 0), undefined, 'a 503 without Retry-After (a proxy\'s)')
  for (const status of [0, 400, 404, 500, 502]) t.equal(retryDelayMs(refused(status, 1), 0), undefined, String(status))
  t.equal(retryDelayMs(new Error('cut off'), 0), undefined)
})

t.test('not past the budget: a wait that would end after it gives up', async t => {
  t.equal(retryDelayMs(refused(503, 5), RETRY_BUDGET_MS - 5000, () => 0), 5000, 'one that ends on it')
  t.equal(retryDelayMs(refused(503, 5), RETRY_BUDGET_MS - 4999, () => 0), undefined)
  t.equal(retryDelayMs(refused(429, 60), 0, () => 0), undefined, 'a minute\'s rate limit is shown, not waited out')
})

t.test('withRetries sends again after each wait, telling of it, until an answer', async t => {
  const waits: Array<number | undefined> = []
  const slept: number[] = []
  let attempts = 0
  const answer = await withRetries(async () => {
    if (++attempts < 3) throw refused(503, 1)
    return 'answered'
  }, { onWait: delayMs => waits.push(delayMs), sleep: async ms => { slept.push(ms) }, random: () => 0 })
  t.equal(answer, 'answered')
  t.equal(attempts, 3)
  t.same(slept, [1000, 1000])
  t.same(waits, [1000, undefined, 1000, undefined], 'each wait told as it begins and ends')
})

t.test('withRetries gives the refusal up once the budget is spent, and any other error at once', async t => {
  let attempts = 0
  const error = await withRetries(async () => { attempts++; throw refused(503, 10) },
    { onWait: () => {}, sleep: async () => {}, random: () => 0 }).catch((caught: unknown) => caught)
  t.match(error, { status: 503 })
  t.equal(attempts, 4, 'three waits of 10 s fill the 30 s budget, then the fourth refusal is shown')
  attempts = 0
  const other = await withRetries(async () => { attempts++; throw refused(500, 1) },
    { onWait: () => {}, sleep: async () => {} }).catch((caught: unknown) => caught)
  t.match(other, { status: 500 })
  t.equal(attempts, 1)
})

t.test('a turn given up on is told in the user\'s words; anything else as the API said it', async t => {
  t.equal(turnFailureText(refused(503, 5), 'Greenleaf'),
    'Greenleaf is too busy to answer just now, and your message was not kept. Please send it again in a moment.')
  t.equal(turnFailureText(refused(429, 60), 'Greenleaf'), 'refused', 'a rate limit says its own limit')
  t.equal(turnFailureText(new ApiError(0, 'The server cannot be reached.'), 'Greenleaf'), 'The server cannot be reached.')
})
