// The day's spend against the budget: this process's calls, the transcript's (every instance's)
// once read, and a new budget at midnight UTC.
import t from 'tap'
import type { Queryable } from '../../../src/db/database.js'
import { DailySpend } from '../../../src/llm/daily-spend.js'
import { LATE_COMMIT_MS } from '../../../src/transcript/transcript-queries.js'
import { manualClock, openTestPGlite } from '../../helper.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

t.test('spent from the transcript and from this process, against the budget, anew each UTC day', async t => {
  const db = await openTestPGlite(t)
  const clock = manualClock(new Date('2026-11-23T23:59:00Z'))
  const spend = new DailySpend({ limitUsd: 1, db, now: clock.now })
  t.equal(spend.usedRatio(), 0)
  const { rows: [session] } = await db.query<{ id: string }>("INSERT INTO sessions (id, status, created_at, last_activity_at) VALUES (gen_random_uuid(), 'active', now(), now()) RETURNING id")
  // Another instance's turns today, stored with their cost; one from yesterday does not count.
  for (const [turn, at, cost] of [[1, '2026-11-23T08:00:00Z', 0.5], [2, '2026-11-23T09:00:00Z', 0.25], [3, '2026-11-22T22:00:00Z', 9]] as const) {
    await db.query('INSERT INTO messages (session_id, turn, role, content, kind, created_at, generation) VALUES ($1, $2, \'bot\', \'x\', \'answer\', $3, $4)',
      [session!.id, turn, at, JSON.stringify({ by: 'model', model: 'm', prompt: 'p@1', cost_usd: cost })])
  }
  await spend.refresh()
  t.equal(spend.spentUsd(), 0.75, 'today\'s stored turns')
  t.ok(spend.reserve(0.2), 'a call that fits is let through')
  t.notOk(spend.reserve(0.1), 'another that would pass the budget with the first still in flight is not')
  spend.settle(0.2, 0.2)
  t.ok(Math.abs(spend.spentUsd() - 0.95) < 1e-12, 'and this process\'s calls since')
  t.ok(spend.reserve(0.05), 'once settled, what is left may be reserved')
  spend.settle(0.05, 0.05)
  t.equal(spend.usedRatio(), 1, 'at the budget')
  t.notOk(spend.reserve(0.0001))
  clock.advance(120_000)
  t.equal(spend.spentUsd(), 0, 'a new day starts from nothing')
  t.ok(spend.reserve(0.5))
  t.equal(new DailySpend({ limitUsd: 0, db, now: clock.now }).usedRatio(), undefined, 'no budget, no ratio')
  t.ok(new DailySpend({ limitUsd: 0, db, now: clock.now }).reserve(1e9), 'and every call let through')
})

t.test('each read takes the rows since the last and an overlap, and the day adds up as a whole read would', async t => {
  const db = await openTestPGlite(t)
  const clock = manualClock(new Date('2026-11-23T08:00:00Z'))
  const reads: string[] = []
  const watched: Queryable = {
    ...db,
    query: async (sql, params, options) => {
      if (sql.includes('cost_usd')) reads.push((params![0] as Date).toISOString())
      return await db.query(sql, params, options)
    }
  }
  const spend = new DailySpend({ limitUsd: 100, db: watched, now: clock.now })
  const whole = new DailySpend({ limitUsd: 100, db, now: clock.now })
  const { rows: [session] } = await db.query<{ id: string }>("INSERT INTO sessions (id, status, created_at, last_activity_at) VALUES (gen_random_uuid(), 'active', now(), now()) RETURNING id")
  let turn = 0
  const answer = async (msAgo: number, cost: number): Promise<void> => {
    await db.query('INSERT INTO messages (session_id, turn, role, content, kind, created_at, generation) VALUES ($1, $2, \'bot\', \'x\', \'answer\', $3, $4)',
      [session!.id, ++turn, new Date(clock.now().getTime() - msAgo), JSON.stringify({ by: 'model', model: 'm', prompt: 'p@1', cost_usd: cost })])
  }
  await answer(HOUR, 1)
  for (let minute = 0; minute < 10; minute++) {
    // A turn of this minute, and one stamped earlier that committed only now (within the overlap).
    await answer(1000, 0.125)
    await answer(LATE_COMMIT_MS - 5000, 0.25)
    await spend.refresh()
    // A fresh reader sums the whole day: what an incremental read must agree with.
    await whole.refresh()
    if (spend.spentUsd() !== whole.spentUsd()) t.fail(`minute ${minute}: ${spend.spentUsd()} against ${whole.spentUsd()}`)
    clock.advance(MINUTE)
  }
  t.equal(spend.spentUsd(), 1 + 10 * 0.375, 'every turn counted once')
  t.equal(reads[0], new Date('2026-11-23T00:00:00Z').toISOString(), 'the first read takes the day from midnight')
  t.equal(reads[1], new Date(Date.parse('2026-11-23T08:00:00Z') - LATE_COMMIT_MS).toISOString(), 'the next, from the overlap before the last read')
  t.equal(reads.at(-1), new Date(Date.parse('2026-11-23T08:08:00Z') - LATE_COMMIT_MS).toISOString(), 'the tenth, at 08:09')
  clock.advance(Date.parse('2026-11-24T00:00:30Z') - clock.now().getTime())
  await spend.refresh()
  t.equal(spend.spentUsd(), 0, 'a new day is read from its midnight')
  t.equal(reads.at(-1), new Date('2026-11-24T00:00:00Z').toISOString())
})
