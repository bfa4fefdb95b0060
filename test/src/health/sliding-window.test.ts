// The windows the in-app alerts read: counts expire with time, quantiles stay close to exact,
// and gauge windows say nothing until their readings cover the window.
import t from 'tap'
import fc from 'fast-check'
import { SampleWindow, SlidingHistogram } from '../../../src/health/sliding-window.js'

t.test('counts cover exactly the asked window and forget what slid out', async t => {
  let now = 1_000_000
  const window = new SlidingHistogram({ horizonMs: 60_000, slotMs: 1000, now: () => now })
  for (let i = 0; i < 10; i++) { now += 1000; window.record() } // one event a second for 10 s
  t.equal(window.count(60_000), 10)
  t.equal(window.count(5000), 5, 'the last five seconds')
  now += 55_000
  t.equal(window.count(60_000), 5, 'the first five slid out of the minute')
  now += 120_000
  t.equal(window.count(60_000), 0, 'slots are reused, never counted twice')
  t.equal(window.quantile(0.95, 60_000), undefined, 'no values, no quantile')
})

t.test('quantiles are within 6% of the exact value, whatever the values', async t => {
  fc.assert(fc.property(
    fc.array(fc.double({ min: 0.0005, max: 50, noNaN: true }), { minLength: 1, maxLength: 500 }),
    fc.constantFrom(0.5, 0.95, 0.99),
    (values, q) => {
      const window = new SlidingHistogram({ horizonMs: 60_000, now: () => 5000 })
      for (const value of values) window.record(value)
      const sorted = [...values].sort((a, b) => a - b)
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!
      const estimate = window.quantile(q, 60_000)!
      return Math.abs(estimate - exact) / exact <= 0.06
    }
  ), { numRuns: 300 })
  t.pass('300 random sets of durations')
})

t.test('a gauge window answers only once its readings cover the window', async t => {
  let now = 0
  const window = new SampleWindow({ horizonMs: 600_000, now: () => now })
  const interval = 15_000
  window.add(0.9)
  t.equal(window.min(60_000, interval), undefined, 'one reading says nothing about a minute')
  t.equal(window.average(60_000, interval), undefined)
  for (const value of [0.95, 0.85, 0.99]) { now += interval; window.add(value) }
  t.equal(window.min(60_000, interval), 0.85, 'four readings 15 s apart cover the minute')
  t.equal(window.average(60_000, interval), (0.9 + 0.95 + 0.85 + 0.99) / 4)
  now += interval; window.add(0.1)
  t.equal(window.min(60_000, interval), 0.1)
  t.equal(window.latest(), 0.1)
  now += 700_000; window.add(0.5)
  t.equal(window.min(60_000, interval), undefined, 'after a gap longer than the horizon, old readings are gone')
})
