// The bound on turns in flight: a burst waits briefly for a slot instead of being refused, a
// turn that waits too long is refused, and right after a refusal the queue stays closed.
import t from 'tap'
import { TurnLimiter } from '../../../src/health/turn-limiter.js'

class Refused extends Error {}

/** A turn that runs until its release() is called (or fails, with fail()). */
function heldTurn (): { turn: () => Promise<string>, release: () => void, fail: () => void } {
  let release = (): void => {}
  let fail = (): void => {}
  const done = new Promise<string>((resolve, reject) => {
    release = () => resolve('answered')
    fail = () => reject(new Error('turn failed'))
  })
  return { turn: async () => await done, release, fail }
}

const settled = async (promise: Promise<unknown>): Promise<string> =>
  await Promise.race([promise.then(() => 'fulfilled', (error: unknown) => error instanceof Refused ? 'refused' : 'rejected'), new Promise<string>(resolve => setImmediate(() => resolve('pending')))])

t.test('past the limit a turn waits for a slot and gets the first one that frees', async t => {
  const limiter = new TurnLimiter({ limit: 2, maxWaitMs: 1000, refuse: () => new Refused() })
  const [a, b, c] = [heldTurn(), heldTurn(), heldTurn()]
  const runs = [limiter.run(a.turn), limiter.run(b.turn), limiter.run(c.turn)]
  t.equal(limiter.inFlight(), 2)
  t.equal(limiter.queued(), 1, 'the third waits')
  a.release()
  t.equal(await runs[0], 'answered')
  t.equal(await settled(runs[2]!), 'pending', 'admitted, running')
  t.equal(limiter.queued(), 0)
  t.equal(limiter.inFlight(), 2, 'the freed slot went to the waiting turn, never more than the limit')
  b.fail()
  await t.rejects(runs[1]!, /turn failed/)
  t.equal(limiter.inFlight(), 1, 'a failed turn frees its slot')
  c.release()
  t.equal(await runs[2], 'answered')
  t.equal(limiter.inFlight(), 0)
})

t.test('a turn that finds no slot in maxWaitMs is refused; for 100 ms after, the queue is closed', async t => {
  let now = 0
  const limiter = new TurnLimiter({ limit: 1, maxWaitMs: 20, refuse: () => new Refused(), now: () => now })
  const first = heldTurn()
  const running = limiter.run(first.turn)
  const started = performance.now()
  t.equal(await limiter.run(async () => 'never').catch((error: unknown) => error instanceof Refused ? 'refused' : 'other'), 'refused', 'waited, then refused')
  t.ok(performance.now() - started >= 19, 'after the wait')
  t.equal(limiter.queued(), 0, 'and no longer queued')
  now += 99
  t.equal(await settled(limiter.run(async () => 'never')), 'refused', 'refused at once within 100 ms of a refusal')
  now += 101
  const waiting = limiter.run(async () => 'answered')
  t.equal(await settled(waiting), 'pending', 'later, a turn waits again')
  first.release()
  await running
  t.equal(await waiting, 'answered')
})

t.test('with maxWaitMs 0 a turn past the limit is refused at once', async t => {
  const limiter = new TurnLimiter({ limit: 1, maxWaitMs: 0, refuse: () => new Refused() })
  const first = heldTurn()
  const running = limiter.run(first.turn)
  t.equal(await settled(limiter.run(async () => 'never')), 'refused')
  first.release()
  await running
  t.equal(await limiter.run(async () => 'answered'), 'answered', 'a free slot runs the turn')
})
