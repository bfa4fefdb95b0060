// The admission of chat turns: a line that can be answered within the goal waits, whatever its
// length; a turn that cannot be answered in time is refused when it arrives; a prediction that
// turned out wrong refuses the turn at its deadline rather than answering it late.
import t from 'tap'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { TurnAdmission } from '../../../src/health/turn-admission.js'

class Refused extends Error {}

/** A turn that runs until its release() is called (or fails, with fail()). */
function heldTurn (): { turn: () => Promise<string>, release: () => void, fail: () => void } {
  let release = (): void => {}
  let fail = (): void => {}
  const done = new Promise<string>((resolve, reject) => {
    release = () => resolve('answered')
    fail = () => reject(new Error('turn failed'))
  })
  // The admission starts a turn a task later: a turn failed before it started is not unhandled.
  done.catch(() => {})
  return { turn: async () => await done, release, fail }
}

const outcome = async (promise: Promise<unknown>): Promise<string> =>
  await promise.then(() => 'answered', (error: unknown) => error instanceof Refused ? 'refused' : 'failed')

/** A clock the test moves, and an admission that reads it. */
function admission (concurrency: number, latencyGoalMs: number, warmUpTurns = 0): {
  gate: TurnAdmission, advance: (ms: number) => void, now: () => number
} {
  let clock = 0
  const now = (): number => clock
  const gate = new TurnAdmission({ concurrency, latencyGoalMs, refuse: () => new Refused(), now, warmUpTurns })
  return { gate, advance: ms => { clock += ms }, now }
}

/** Keeps the gate busy (a line behind the turns in flight) for `count` turns, each taking `ms` of the test's clock. */
async function teach (gate: TurnAdmission, advance: (ms: number) => void, count: number, ms: number): Promise<void> {
  await Promise.all(Array.from({ length: count }, async () => await gate.run(async () => { advance(ms) })))
}

t.test('past the concurrency a turn waits in line and gets the first slot that frees; a failed turn frees its slot', async t => {
  const { gate } = admission(2, 1000)
  const [a, b, c] = [heldTurn(), heldTurn(), heldTurn()]
  const runs = [gate.run(a.turn), gate.run(b.turn), gate.run(c.turn)]
  t.equal(gate.inFlight(), 2)
  t.equal(gate.queued(), 1, 'the third waits')
  a.release()
  t.equal(await runs[0], 'answered')
  t.equal(gate.queued(), 0)
  t.equal(gate.inFlight(), 2, 'the freed slot went to the waiting turn, never more than the concurrency')
  b.fail()
  await t.rejects(runs[1]!, /turn failed/)
  t.equal(gate.inFlight(), 1)
  c.release()
  t.equal(await runs[2], 'answered')
  t.equal(gate.inFlight(), 0)
})

t.test('until the service rate is known, every turn is let in', async t => {
  // Each turn takes the whole goal: a known rate would refuse the line. The goal is long in real
  // time too, so that the stall deadline (twice the goal, a real timer) cannot fire on a busy machine.
  const { gate, advance } = admission(1, 10_000)
  const turns = Array.from({ length: 10 }, async () => await outcome(gate.run(async () => { advance(10_000) })))
  t.equal(gate.predictedMs(), undefined)
  t.equal(gate.refusesNow(), false, 'nor refused at the door')
  t.same(new Set(await Promise.all(turns)), new Set(['answered']))
})

t.test('a cold process\'s first turns are not measured: their slowness predicts no refusal', async t => {
  const { gate, advance } = admission(1, 100, 50)
  await teach(gate, advance, 50, 50) // a cold start: 50 ms a turn, 50 of them in line at once
  t.equal(gate.predictedMs(), 0, 'nothing learnt from the warm-up')
  await teach(gate, advance, 30, 2)
  t.equal(gate.predictedMs(), 2, 'the service rate is learnt from the turns after it')
  const turns = Array.from({ length: 40 }, async () => await outcome(gate.run(async () => { advance(2) })))
  t.same(new Set(await Promise.all(turns)), new Set(['answered']), '40 in line drain in 80 ms, within the goal')
})

t.test('a line that drains within the goal is never refused, however long', async t => {
  const { gate, advance } = admission(1, 1000)
  await teach(gate, advance, 30, 10)
  // 50 turns of 10 ms, one at a time: the last is answered within 500 ms of arriving.
  const turns = Array.from({ length: 50 }, async () => await outcome(gate.run(async () => { advance(10) })))
  t.same(new Set(await Promise.all(turns)), new Set(['answered']))
})

t.test('a turn that could not be answered within the goal is refused when it arrives, not after waiting', async t => {
  const { gate, advance } = admission(1, 100)
  await teach(gate, advance, 30, 10)
  t.equal(gate.predictedMs(), 10, 'with nothing in flight, a turn takes its own duration')
  const first = heldTurn()
  const running = gate.run(first.turn)
  // A turn ahead ends every 10 ms: the ninth in line starts after 90 ms and is answered at 100 ms.
  const waiting = Array.from({ length: 9 }, async () => await outcome(gate.run(async () => { advance(10) })))
  t.equal(gate.queued(), 9)
  t.equal(gate.predictedMs(), 110, 'a tenth would take 110 ms')
  t.equal(await outcome(gate.run(async () => {})), 'refused', 'refused at once: the line is not waited on')
  t.equal(gate.queued(), 9, 'and it was never put in line')
  first.release()
  await running
  t.same(new Set(await Promise.all(waiting)), new Set(['answered']), 'those in line are answered')
})

t.test('refusesNow() says what run() would decide for a turn arriving now, and takes no place in line', async t => {
  const { gate, advance } = admission(1, 100)
  t.equal(gate.refusesNow(), false, 'a free slot')
  await teach(gate, advance, 30, 10)
  const first = heldTurn()
  const running = gate.run(first.turn)
  t.equal(gate.refusesNow(), false, 'a turn would wait, and be answered within the goal')
  const waiting = Array.from({ length: 9 }, async () => await outcome(gate.run(async () => { advance(10) })))
  t.equal(gate.predictedMs(), 110)
  t.same([gate.refusesNow(), gate.refusesNow(), gate.refusesNow()], [true, true, true], 'the line is too long, however often asked')
  t.equal(gate.queued(), 9, 'asking put nothing in line')
  t.equal(gate.inFlight(), 1, 'nor in flight')
  t.equal(await outcome(gate.run(async () => {})), 'refused', 'run() decides the same')
  first.release()
  await running
  t.same(new Set(await Promise.all(waiting)), new Set(['answered']), 'those in line are answered')
  t.equal(gate.refusesNow(), false, 'the line drained: let in again')
})

t.test('the wait per turn in line is the measured time between completions, not a turn\'s duration: overlapping turns drain faster', async t => {
  const { gate, advance } = admission(2, 1000)
  // Two at a time, one ending every 5 ms, each in flight for about 10 ms.
  const turns = Array.from({ length: 40 }, () => heldTurn())
  const runs = turns.map(async held => await gate.run(held.turn))
  for (let i = 0; i < 30; i++) {
    advance(5)
    turns[i]!.release()
    await runs[i]
  }
  const before = gate.predictedMs()!
  const extra = heldTurn()
  const extraRun = gate.run(extra.turn)
  t.equal(gate.predictedMs()! - before, 5, 'each turn more in line adds 5 ms of wait, the time between completions')
  for (const held of [...turns, extra]) held.release()
  await Promise.all([...runs, extraRun])
})

t.test('a turn whose prediction failed (the database stalled) is refused at its deadline, and the line moves on', async t => {
  const { gate, advance } = admission(1, 50)
  await teach(gate, advance, 30, 10)
  const stalled = heldTurn()
  const running = gate.run(stalled.turn)
  const waiting = gate.run(async () => 'never')
  const started = performance.now()
  t.equal(await outcome(waiting), 'refused')
  t.ok(performance.now() - started >= 95, 'after waiting twice the goal: an answer a little late beats a refusal after waiting')
  t.equal(gate.queued(), 0, 'no longer in line')
  stalled.release()
  t.equal(await running, 'answered')
  t.equal(await gate.run(async () => 'answered'), 'answered', 'a free slot runs the next turn')
})

t.test('a turn waiting on the model hands its slot on meanwhile, and takes the next free one back ahead of the line, never refused', async t => {
  const { gate, advance } = admission(1, 50)
  await teach(gate, advance, 30, 10)
  const model = heldTurn()
  const order: string[] = []
  const writing = gate.run(async outside => {
    order.push('searched')
    const written = await outside(model.turn)
    order.push('stored')
    return written
  })
  await yieldToEventLoop()
  await yieldToEventLoop()
  t.equal(gate.inFlight(), 0, 'no slot held while the model writes')
  t.equal(await gate.run(async () => { order.push('another turn'); return 'answered' }), 'answered', 'another user is answered meanwhile')
  const held = heldTurn()
  const occupying = gate.run(held.turn)
  const queued = gate.run(async () => { order.push('queued turn'); return 'answered' })
  model.release()
  await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(gate.queued(), 2, 'back from the model, the turn waits for a slot too')
  held.release()
  t.same(await Promise.all([writing, occupying, queued]), ['answered', 'answered', 'answered'])
  t.same(order, ['searched', 'another turn', 'stored', 'queued turn'], 'ahead of the turn that was in line before it came back')
})

t.test('turns that took longer than predicted (the line stalled while they waited) shorten the line let in', async t => {
  /** Rounds of 8 turns in line behind a held one; `stallMs` passes before the held one ends. */
  const rounds = async (gate: TurnAdmission, advance: (ms: number) => void, count: number, stallMs: number): Promise<void> => {
    for (let round = 0; round < count; round++) {
      const held = heldTurn()
      const first = gate.run(held.turn)
      const line = Array.from({ length: 8 }, async () => await gate.run(async () => { advance(10) }))
      advance(stallMs)
      held.release()
      await Promise.all([first, ...line])
    }
  }
  /** Whether a turn is let in with one in flight and 4 waiting: predicted 5 × 10 + 10 ms, or twice that. */
  const letsInAFifthInLine = async (gate: TurnAdmission): Promise<boolean> => {
    const held = heldTurn()
    const first = gate.run(held.turn)
    const line = Array.from({ length: 4 }, async () => await gate.run(async () => {}))
    const refused = gate.refusesNow()
    held.release()
    await Promise.all([first, ...line])
    return !refused
  }

  const steady = admission(1, 100)
  await teach(steady.gate, steady.advance, 30, 10)
  await rounds(steady.gate, steady.advance, 15, 10)
  t.ok(await letsInAFifthInLine(steady.gate), 'turns answered when predicted: a line of 4 is let grow')

  const stalling = admission(1, 100)
  await teach(stalling.gate, stalling.advance, 30, 10)
  await rounds(stalling.gate, stalling.advance, 15, 50)
  t.notOk(await letsInAFifthInLine(stalling.gate), 'turns answered up to 3 times later than predicted: the same line is not')
  stalling.advance(5 * 60_000 + 1)
  t.ok(await letsInAFifthInLine(stalling.gate), 'five minutes without a long line, the overrun is forgotten')
})

t.test('refusals for the goal that go on as long as the goal keep the line within a quarter of it, for twice the goal or until the line empties', async t => {
  // The goal is long in real time too, so that the stall deadline (twice the goal, a real timer)
  // cannot fire on a busy machine while turns are held.
  const { gate, advance } = admission(1, 1000)
  await teach(gate, advance, 30, 10)
  const started = async (): Promise<void> => {
    await yieldToEventLoop()
    await yieldToEventLoop()
  }
  /** Held turns let in until a turn arriving now is predicted past the goal: each ends with next(). */
  const fullLine = async () => {
    const turns: Array<{ held: ReturnType<typeof heldTurn>, run: Promise<unknown> }> = []
    while ((gate.predictedMs() ?? 0) <= 1000) {
      const held = heldTurn()
      turns.push({ held, run: gate.run(held.turn) })
      await started()
    }
    return {
      next: async (): Promise<void> => {
        const { held, run } = turns.shift()!
        held.release()
        await run
        await started()
      }
    }
  }
  const first = await fullLine()
  t.equal(gate.lineLimitMs(), 1000, 'the goal, while nothing was refused')
  t.ok(gate.refusesNow(), `a turn predicted at ${gate.predictedMs()} ms is refused for the goal`)
  advance(999)
  t.ok(gate.refusesNow())
  t.equal(gate.lineLimitMs(), 1000, 'refused for less than the goal: a burst, whose line may reach the goal')
  advance(1)
  t.ok(gate.refusesNow())
  t.equal(gate.lineLimitMs(), 250, 'refused for as long as the goal: the line is kept within a quarter of it')
  while (gate.predictedMs()! > 600) await first.next()
  const predicted = gate.predictedMs()!
  t.ok(predicted > 250 && predicted <= 1000, `${predicted} ms: within the goal, past a quarter of it`)
  t.equal(await outcome(gate.run(async () => {})), 'refused', 'refused: the line stands while turns come faster than they go')
  advance(1999)
  t.ok(gate.refusesNow(), 'still, for twice the goal')
  advance(1)
  t.equal(gate.lineLimitMs(), 1000, 'then the whole goal again')
  t.equal(gate.refusesNow(), false, 'and the same line is let in')
  while (gate.queued() > 0 || gate.inFlight() > 0) await first.next()

  const second = await fullLine()
  for (let refusal = 0; refusal < 3; refusal++) {
    if (refusal > 0) advance(500)
    t.ok(gate.refusesNow())
  }
  t.equal(gate.lineLimitMs(), 250, 'refusals again for as long: a short line')
  while (gate.queued() > 0 || gate.inFlight() > 0) await second.next()
  t.equal(gate.lineLimitMs(), 1000, 'the line emptied, its overload over: the whole goal for whatever comes next')
})

t.test('clients that each wait for their answer never start the short line', async t => {
  const { gate, advance } = admission(1, 100)
  await teach(gate, advance, 30, 10)
  // Eight clients, each sending its next turn when the last is answered: a line of 7, 80 ms.
  let answered = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let turn = 0; turn < 20; turn++) {
      await gate.run(async () => { advance(10) })
      answered++
    }
  }))
  t.equal(answered, 160, 'every turn answered')
  t.equal(gate.lineLimitMs(), 100)
})

t.test('the short line is held for a time: clients that retry a refused turn at once are let in again after it', async t => {
  const { gate, advance, now } = admission(1, 1000)
  await teach(gate, advance, 30, 10)
  let refusedAfterHold = 0
  let holdEndsAt = Infinity
  /** A client that sends its next turn when the last is answered, and a refused one again at once. */
  const client = async (turns: number, until = Infinity): Promise<number> => {
    let answered = 0
    const going = (): boolean => answered < turns && now() < until
    while (going()) {
      if (await outcome(gate.run(async () => { advance(10) })) === 'answered') {
        answered++
      } else {
        if (now() >= holdEndsAt) refusedAfterHold++
        await yieldToEventLoop()
      }
    }
    return answered
  }
  // 120 clients: a line of 1.2 s, past the goal. After 1.5 s, 90 of them leave; 30 stay, whose
  // line (300 ms) is within the goal but past a quarter of it.
  const leaving = Array.from({ length: 90 }, async () => await client(Infinity, 1500))
  const staying = Array.from({ length: 30 }, async () => await client(200))
  while (gate.lineLimitMs() === 1000) await yieldToEventLoop()
  holdEndsAt = now() + 2000
  t.pass(`the line kept short at ${now()} ms`)
  await Promise.all(leaving)
  t.same(await Promise.all(staying), Array.from({ length: 30 }, () => 200), 'every turn of those who stayed answered')
  t.equal(refusedAfterHold, 0, 'none refused once the hold was over: their line is within the goal')
  t.equal(gate.lineLimitMs(), 1000)
})

t.test('an overload that outlasts the short line is kept short again at once, and for twice as long', async t => {
  const { gate, advance } = admission(1, 1000)
  await teach(gate, advance, 30, 10)
  const held: Array<ReturnType<typeof heldTurn>> = []
  const runs: Array<Promise<string>> = []
  while ((gate.predictedMs() ?? 0) <= 1000) {
    const turn = heldTurn()
    held.push(turn)
    runs.push(gate.run(turn.turn))
    await yieldToEventLoop()
  }
  const refusedForTheGoal = (): void => { t.ok(gate.refusesNow(), `refused at ${gate.predictedMs()} ms`) }
  for (let refusal = 0; refusal < 3; refusal++) {
    if (refusal > 0) advance(500)
    refusedForTheGoal()
  }
  t.equal(gate.lineLimitMs(), 250, 'short, for 2 s')
  advance(2000)
  t.equal(gate.lineLimitMs(), 1000, 'the hold is over')
  advance(500)
  refusedForTheGoal()
  t.equal(gate.lineLimitMs(), 250, 'refused for the goal within a hold of it: short again at once')
  advance(3999)
  t.equal(gate.lineLimitMs(), 250, 'for 4 s')
  advance(1)
  t.equal(gate.lineLimitMs(), 1000)
  advance(4000)
  refusedForTheGoal()
  t.equal(gate.lineLimitMs(), 1000, 'a hold later, a refusal is a new overload: the line may reach the goal')
  for (const turn of held) turn.release()
  t.same(new Set(await Promise.all(runs)), new Set(['answered']), 'the line let in is answered')
})

t.test('completions that come in bunches, as a database server commits them, predict a steady line', async t => {
  // 32 turns in flight (PostgreSQL's), a completion every 2 ms on average, but completed together
  // in bunches of 1 to 32. A line of 400 is predicted at 400 × 2 ms plus a turn's own time (32
  // completions, 64 ms), whatever the bunch last seen.
  const { gate, advance } = admission(32, 60_000)
  const releases: Array<() => void> = []
  const enter = (): void => {
    gate.run(async () => { await new Promise<void>(resolve => { releases.push(resolve) }) }).catch(() => {})
  }
  const settled = async (): Promise<void> => {
    for (let tick = 0; tick < 3; tick++) await yieldToEventLoop()
  }
  const topUp = async (): Promise<void> => {
    while (gate.inFlight() + gate.queued() < 32 + 400) enter()
    await settled()
  }
  const bunches = [1, 32, 3, 24, 8, 2, 30, 5, 32, 1, 20, 4, 32, 14, 1, 26]
  const predictions: number[] = []
  await topUp()
  for (let bunch = 0; bunch < 400; bunch++) {
    const size = bunches[bunch % bunches.length]!
    advance(2 * size)
    for (const release of releases.splice(0, size)) release()
    await topUp()
    if (bunch >= 200) predictions.push(gate.predictedMs()!)
  }
  const [least, most] = [Math.min(...predictions), Math.max(...predictions)]
  t.ok(most / least < 1.1, `predicted ${least.toFixed(0)} to ${most.toFixed(0)} ms from one bunch to the next`)
  t.ok(least > 0.9 * (401 * 2 + 64) && most < 1.1 * (401 * 2 + 64), 'about the line times the time a completion takes, plus a turn')
  for (const release of releases.splice(0)) release()
  while (gate.inFlight() > 0) {
    await settled()
    for (const release of releases.splice(0)) release()
  }
})
