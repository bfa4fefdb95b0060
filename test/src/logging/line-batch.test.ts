// Log lines handed to the log writer a batch at a time: each line reaches it within the wait,
// in order, at once when the batch is long, and whenever asked, with nothing written twice.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { LineBatch } from '../../../src/logging/line-batch.js'

function sink () {
  const batches: string[] = []
  return { batches, write: (chunk: string) => { batches.push(chunk); return true } }
}

t.test('lines written together are handed over as one batch, in order, within the wait', async t => {
  const target = sink()
  const batch = new LineBatch(target, { maxWaitMs: 20, maxChars: 1000 })
  batch.write('one\n')
  batch.write('two\n')
  t.same(target.batches, [], 'held while the wait lasts')
  await sleep(60)
  t.same(target.batches, ['one\ntwo\n'])
  batch.write('three\n')
  await sleep(60)
  t.same(target.batches, ['one\ntwo\n', 'three\n'], 'a later line starts a batch of its own')
})

t.test('a batch as long as maxChars is handed over at once, and handOver() hands over what waits', async t => {
  const target = sink()
  const batch = new LineBatch(target, { maxWaitMs: 60_000, maxChars: 10 })
  batch.write('12345\n')
  t.same(target.batches, [])
  batch.write('67890\n')
  t.same(target.batches, ['12345\n67890\n'], 'long enough: handed over')
  batch.write('last\n')
  batch.handOver()
  batch.handOver()
  t.same(target.batches, ['12345\n67890\n', 'last\n'], 'handed over once, when asked')
})
