// The turn traces' counts by bucket: requests kept and those that failed, read live, stored from
// the traces or from stored parts (the same counts either way), once; on every engine.
import t from 'tap'
import type { Database } from '../../../src/db/database.js'
import {
  forgetTraceBuckets, liveTraceBuckets, storedTraceBuckets, storeTraceBuckets, type TraceBucket
} from '../../../src/turn-traces/turn-trace-rollup.js'
import { engines } from '../../helper.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const T0 = new Date('2026-01-15T10:00:00Z')
const at = (ms: number) => new Date(T0.getTime() + ms)
const stored = async (db: Database, range: { from: Date, to: Date }, widthMs: number) =>
  (await storedTraceBuckets(db, [{ ...range, widthMs }]))[0]!
const plain = (buckets: TraceBucket[]) => buckets.map(bucket => ({ ...bucket, at: bucket.at.toISOString() }))

async function trace (db: Database, id: string, ms: number, status: 'ok' | 'error' = 'ok'): Promise<void> {
  await db.query(`INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms)
    VALUES ($1, NULL, NULL, $2, $3, $4, 12)`, [id, status, status === 'error' ? 500 : 200, at(ms)])
}

for (const engine of engines()) {
  t.test(`${engine.name}: requests and errors by bucket, live or stored, from the traces or their parts`, async t => {
    const db = await engine.open(t)
    await trace(db, 'before', -1)
    await trace(db, 'a', 0)
    await trace(db, 'b', 4 * MINUTE, 'error')
    await trace(db, 'c', 59 * MINUTE)
    await trace(db, 'd', 61 * MINUTE, 'error')
    await trace(db, 'after', 2 * HOUR)
    const range = { from: T0, to: at(2 * HOUR) }
    const hours = [{ at: T0.toISOString(), requests: 3, errors: 1 }, { at: at(HOUR).toISOString(), requests: 1, errors: 1 }]
    t.same(plain(await liveTraceBuckets(db, range, HOUR)), hours, 'from its start up to and excluding its end')
    t.same(plain(await liveTraceBuckets(db, { from: at(3 * HOUR), to: at(4 * HOUR) }, HOUR)),
      [{ at: at(3 * HOUR).toISOString(), requests: 0, errors: 0 }], 'a row of zeros where nothing ran')
    t.same(await stored(db, range, HOUR), [])

    await storeTraceBuckets(db, range, 5 * MINUTE)
    t.equal((await stored(db, range, 5 * MINUTE)).length, 24)
    await storeTraceBuckets(db, range, HOUR, 5 * MINUTE)
    t.same(plain(await stored(db, range, HOUR)), hours, 'the hours from their 5 minutes')
    await trace(db, 'late', 30 * MINUTE, 'error')
    await storeTraceBuckets(db, range, HOUR)
    t.same(plain(await stored(db, range, HOUR)), hours, 'a bucket stored is left as it was')

    await db.query('DELETE FROM turn_trace_rollup WHERE width_ms = $1 AND at = $2', [5 * MINUTE, at(HOUR)])
    await storeTraceBuckets(db, range, 2 * HOUR, 5 * MINUTE)
    t.same(await stored(db, range, 2 * HOUR), [], 'not from parts when one is missing')
    await forgetTraceBuckets(db, at(HOUR))
    t.same(plain(await stored(db, range, HOUR)), hours.slice(1))
  })
}
