import t from 'tap'
import { draftOf, filtersOf, leftOut, toQuery } from '../../../web/console/conversation-filters.js'

const read = (search: string) => filtersOf(new URLSearchParams(search))

t.test('a link\'s filters become the API\'s query', async t => {
  const now = Date.parse('2026-11-27T12:00:00Z')
  const filters = read('q=refund&range=day&user=u1&kind=no_answer&feedback=down&errors=true&min_latency_ms=1500&source=faq-1')
  t.same(toQuery(filters, 'cursor', now), {
    q: 'refund',
    from: '2026-11-26T12:00:00.000Z',
    user: 'u1',
    kind: 'no_answer',
    feedback: 'down',
    errors: true,
    min_latency_ms: 1500,
    source: 'faq-1',
    limit: 25,
    before: 'cursor'
  })
  t.same(leftOut(filters), [], 'every one applied')
  t.same(leftOut(read('range=all&kind=')), [], '"All time" and "Any" are choices, not mistakes')
})

t.test('a value the list cannot apply is left out of the query, and said', async t => {
  const filters = read('range=year&kind=answered&feedback=up&errors=yes&min_latency_ms=abc')
  t.match(toQuery(filters, undefined), {
    from: undefined, kind: undefined, feedback: undefined, errors: undefined, min_latency_ms: undefined
  })
  t.same(leftOut(filters), [
    'range=year (one of hour, day, week, all)',
    'kind=answered (one of answer, no_answer, smalltalk, command, command_error)',
    'feedback=up (only down)',
    'errors=yes (only true)',
    'min_latency_ms=abc (a whole number of milliseconds)'
  ])
  for (const slower of ['-5', '1.5', '1e3', '', ' 20']) {
    t.same(leftOut(read(`min_latency_ms=${encodeURIComponent(slower)}`)), [`min_latency_ms=${slower} (a whole number of milliseconds)`], slower)
  }
})

t.test('the text fields show what the list applies', async t => {
  t.same(draftOf(read('q=refund&user=u1&min_latency_ms=1500')), { q: 'refund', user: 'u1', min_latency_ms: '1500' })
  t.same(draftOf(read('min_latency_ms=abc')), { q: '', user: '', min_latency_ms: '' }, 'not a latency a number field cannot show')
})
