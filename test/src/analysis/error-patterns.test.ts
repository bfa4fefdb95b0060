import t from 'tap'
import { trendOf } from '../../../src/analysis/error-patterns.js'

t.test('a pattern\'s trend against the period before', async t => {
  t.equal(trendOf(3, 0), 'new', 'not seen before')
  t.equal(trendOf(15, 10), 'growing', '1.5 times or more')
  t.equal(trendOf(14, 10), 'steady')
  t.equal(trendOf(7, 10), 'steady')
  t.equal(trendOf(6, 10), 'shrinking', 'two thirds or less')
  t.equal(trendOf(0, 10), 'shrinking', 'gone')
})
