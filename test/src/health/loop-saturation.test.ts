// The saturation sensor that tightens PGlite's request-wait limit: a loop kept busy reads as
// saturated, an idle one (or one with idle time between bursts) does not.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { loopSaturation } from '../../../src/health/loop-saturation.js'

// Busy for ms in slices, yielding between them as a loaded server does, so the sensor's timer runs.
async function busy (ms: number, sliceMs: number): Promise<void> {
  for (const until = performance.now() + ms; performance.now() < until;) {
    const slice = performance.now() + sliceMs
    while (performance.now() < slice);
    await new Promise(resolve => setImmediate(resolve))
  }
}

t.test('busy through the interval is saturated; idle, or bursts with rests between them, is not', async t => {
  const saturation = loopSaturation({ intervalMs: 50 })
  t.teardown(() => saturation.stop())
  await sleep(120)
  t.notOk(saturation.now(), 'idle')
  await busy(300, 20)
  t.ok(saturation.now(), 'kept busy')
  await sleep(120)
  t.notOk(saturation.now(), 'idle again')
  for (let i = 0; i < 4; i++) {
    await busy(15, 15)
    await sleep(30)
  }
  t.notOk(saturation.now(), 'bursts with rests between them')
})
