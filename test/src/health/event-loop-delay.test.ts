import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { EventLoopDelay } from '../../../src/health/event-loop-delay.js'
import { waitFor } from '../../helper.js'

const block = (ms: number): void => { const until = Date.now() + ms; while (Date.now() < until); }

t.test('the mean delay of each interval, measured only from start', async t => {
  const delay = new EventLoopDelay()
  t.teardown(() => { delay.stop() })
  block(600)
  delay.start(200)
  t.equal(delay.current(), 0, 'nothing before the first sample')
  await sleep(450)
  // An interval in which a busy machine never ran the loop's 10 ms timer has no sample (Infinity):
  // what is asked here is of an interval that has one.
  t.ok(await waitFor(() => Number.isFinite(delay.current()), 3000, 20), 'an interval sampled')
  t.ok(delay.current() < 50, `what the loop did before start is not counted: ${delay.current()} ms`)
  const hog = setInterval(() => { block(150) }, 1)
  t.teardown(() => { clearInterval(hog) })
  t.ok(await waitFor(() => delay.current() > 100, 3000, 20), 'a loop held 150 ms at a time is seen')
  clearInterval(hog)
  t.ok(await waitFor(() => delay.current() < 50, 3000, 20), 'and seen to pass')
  delay.stop()
  t.equal(delay.current(), 0, 'stopped, it measures nothing')
})
