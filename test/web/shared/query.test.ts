import t from 'tap'
import { queryString } from '../../../web/shared/query.js'

t.test('values become parameters, in order, encoded', async t => {
  t.equal(queryString({ q: 'how do I?', limit: 25, errors: true }), '?q=how+do+I%3F&limit=25&errors=true')
})

t.test('a value left out or empty is no parameter', async t => {
  t.equal(queryString({ q: '', user: undefined, before: null, limit: 0 }), '?limit=0', 'zero is a value')
  t.equal(queryString({}), '')
  t.equal(queryString({ q: '' }), '', 'no lone question mark')
})
