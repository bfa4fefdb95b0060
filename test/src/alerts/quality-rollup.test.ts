// The stored quality buckets: what is stored is read back as it was, a bucket is stored once, and
// those before the longest window are forgotten, on both engines.
import t from 'tap'
import { storedQualityBuckets, storeQualityBuckets, type QualityBucket } from '../../../src/alerts/quality-rollup.js'
import { engines } from '../../helper.js'

const WIDTH = 10_000
const key = Date.parse('2026-01-15T10:00:00Z') / WIDTH
const bucket = (answered: number, topics: Array<[string, string, number]> = []): QualityBucket => ({
  answered,
  questions: answered + 2,
  feedbackDown: 1,
  topics: new Map(topics.map(([docId, title, turns]) => [docId, { title, turns }]))
})

for (const engine of engines()) {
  t.test(`${engine.name}: stored buckets read back, each stored once, the old ones forgotten`, async t => {
    const db = await engine.open(t)
    const first = new Map([
      [key, bucket(3, [['refunds', 'Refunds "and" returns — €', 2], ['x\\y', 'Back\\slash', 1]])],
      [key + 1, bucket(0)]
    ])
    await storeQualityBuckets(db, WIDTH, first, key)
    t.same(await storedQualityBuckets(db, WIDTH, key), first, 'read back as stored, titles with quotes and backslashes too')

    await storeQualityBuckets(db, WIDTH, new Map([[key + 1, bucket(9)], [key + 2, bucket(5)]]), key)
    const stored = await storedQualityBuckets(db, WIDTH, key)
    t.equal(stored.get(key + 1)?.answered, 0, 'a bucket stored already keeps its first counts')
    t.equal(stored.get(key + 2)?.answered, 5, 'a new one is added')
    t.same([...(await storedQualityBuckets(db, WIDTH, key + 2)).keys()], [key + 2], 'read from a given bucket on')
    t.same([...(await storedQualityBuckets(db, 5_000, 0)).keys()], [], 'and of the given width only')

    await storeQualityBuckets(db, WIDTH, new Map([[key + 3, bucket(1)]]), key + 2)
    t.same([...(await storedQualityBuckets(db, WIDTH, 0)).keys()], [key + 2, key + 3], 'those before the given bucket are forgotten')
  })
}
