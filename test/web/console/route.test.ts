import t from 'tap'
import { hashFor, listHash, parseHash, rememberListHash } from '../../../web/console/route.js'

t.test('each view from its hash', async t => {
  t.match(parseHash(''), { view: 'conversations' })
  t.match(parseHash('#/conversations?kind=no_answer'), { view: 'conversations' })
  t.equal(parseHash('#/conversations?kind=no_answer').params.get('kind'), 'no_answer')
  t.match(parseHash('#/conversations/a%2Fb?trace=t1'), { view: 'conversation', id: 'a/b' })
  t.match(parseHash('#/traces/t1'), { view: 'trace', id: 't1' })
  t.match(parseHash('#/overview?period=week'), { view: 'overview' })
  t.match(parseHash('#/accuracy'), { view: 'accuracy' })
})

t.test('hashFor leaves out empty filters, and parseHash reads it back', async t => {
  const hash = hashFor('conversations', { q: 'refund policy', user: '', kind: undefined, range: 'day' })
  t.equal(hash, '#/conversations?q=refund+policy&range=day')
  t.same(Object.fromEntries(parseHash(hash).params), { q: 'refund policy', range: 'day' })
  t.equal(hashFor('overview'), '#/overview')
})

t.test('the last list is remembered for "Back to conversations"', async t => {
  t.equal(listHash(), '#/conversations', 'the whole list before any is shown')
  rememberListHash('#/conversations?feedback=down')
  t.equal(listHash(), '#/conversations?feedback=down')
  rememberListHash('')
  t.equal(listHash(), '#/conversations', 'the page opened without a hash is the whole list')
})
