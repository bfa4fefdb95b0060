// The latency histogram's bins and the percentiles read from them: within a bin's width (10 %, or
// 0.1 ms below the first bin) of percentile_cont's exact figure on any sample, exact where every
// value is the same.
import t from 'tap'
import fc from 'fast-check'
import {
  addHistogram, BIN_COUNT, binBounds, binOf, emptyHistogram, percentile, type LatencyHistogram
} from '../../../src/transcript/latency-histogram.js'

/** As PostgreSQL's percentile_cont. */
function exact (values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = fraction * (sorted.length - 1)
  const below = Math.floor(rank)
  return sorted[below]! + (rank - below) * ((sorted[below + 1] ?? sorted[below]!) - sorted[below]!)
}

function histogramOf (values: number[]): LatencyHistogram {
  const histogram = emptyHistogram()
  for (const value of values) {
    addHistogram(histogram, { bins: { [binOf(value)]: 1 }, min: value, max: value })
  }
  return histogram
}

t.test('each value falls in its bin, and each bin is 10 % wider than the one before', async t => {
  fc.assert(fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), value => {
    const [low, high] = binBounds(binOf(value))
    return low <= value * (1 + 1e-12) && value < high * (1 + 1e-12)
  }))
  t.equal(binOf(0), 0)
  t.equal(binOf(0.1), 1)
  t.equal(binOf(1e9), BIN_COUNT - 1, 'the last bin is open')
  t.same(binBounds(BIN_COUNT - 1)[1], Infinity)
  for (const bin of [1, 50, 100, BIN_COUNT - 2]) {
    const [low, high] = binBounds(bin)
    t.ok(Math.abs(high / low - 1.1) < 1e-9, `bin ${bin}`)
  }
  t.ok(binBounds(BIN_COUNT - 1)[0] > 600_000, 'bins up to 10 minutes')
})

t.test('a percentile is within its bin\'s width of the exact one', async t => {
  const latency = fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 120_000, noNaN: true }))
  fc.assert(fc.property(fc.array(latency, { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, fraction) => {
    const estimate = percentile(histogramOf(values), fraction)!
    const truth = exact(values, fraction)
    return Math.abs(estimate - truth) <= Math.max(0.1 * truth, 0.1) + 1e-9
  }), { numRuns: 2000 })
})

t.test('exact where the values are the same, the smallest or the largest', async t => {
  t.equal(percentile(histogramOf([5.5, 5.5, 5.5]), 0.95), 5.5)
  t.equal(percentile(histogramOf([3, 40, 700]), 0), 3)
  t.equal(percentile(histogramOf([3, 40, 700]), 1), 700)
  t.equal(percentile(histogramOf([3, 40, 700_000_000]), 1), 700_000_000, 'past the last bin too')
  t.equal(percentile(emptyHistogram(), 0.5), null)
})

t.test('histograms add up bin by bin, with their range', async t => {
  const sum = histogramOf([1, 2])
  addHistogram(sum, histogramOf([2, 300]))
  addHistogram(sum, emptyHistogram())
  t.same(sum, { bins: { [binOf(1)]: 1, [binOf(2)]: 2, [binOf(300)]: 1 }, min: 1, max: 300 })
})
