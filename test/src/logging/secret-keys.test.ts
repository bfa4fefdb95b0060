import t from 'tap'
import { REDACTED, redactSecrets } from '../../../src/logging/secret-keys.js'

t.test('a secret-named key is redacted at any depth, in arrays too', async t => {
  const input = {
    password: 'hunter22',
    user: { name: 'kim', credentials: { apiKey: 'k-1', nested: { deeper: { db_password: 'p' } } } },
    headers: { authorization: 'Bearer abc', 'x-api-key': 'xyz', 'proxy-authorization': 'Basic q', cookie: 'sid=1', 'set-cookie': ['a=1'], accept: 'json' },
    keys: [{ accessToken: 't1' }, { refresh_token: 't2', kind: 'refresh' }],
    LOG_ID_SECRET: 's3cret'
  }
  t.same(redactSecrets(input), {
    password: REDACTED,
    user: { name: 'kim', credentials: { apiKey: REDACTED, nested: { deeper: { db_password: REDACTED } } } },
    headers: { authorization: REDACTED, 'x-api-key': REDACTED, 'proxy-authorization': REDACTED, cookie: REDACTED, 'set-cookie': REDACTED, accept: 'json' },
    keys: [{ accessToken: REDACTED }, { refresh_token: REDACTED, kind: 'refresh' }],
    LOG_ID_SECRET: REDACTED
  })
  t.equal(input.password, 'hunter22', 'the logged object itself is not changed')
})

t.test('an object without secrets is returned as it is, not copied', async t => {
  const clean = { module: 'chat', fn: 'turn', sources: [{ doc_id: 'a', score: 1.2 }], tokens_used: 12 }
  t.equal(redactSecrets(clean), clean)
})

t.test('values that only say whether a secret is set stay, and so do missing ones', async t => {
  t.same(redactSecrets({ SMTP_PASSWORD: '(unset)', LOG_ID_SECRET: '(set)', token: '', secret: null }), { SMTP_PASSWORD: '(unset)', LOG_ID_SECRET: '(set)', token: '', secret: null })
})

t.test('class instances are left to their serializers, and a circular object does not hang', async t => {
  const error = Object.assign(new Error('x'), { password: 'p' })
  t.equal(redactSecrets({ err: error }).err, error)
  const circular: Record<string, unknown> = { name: 'loop' }
  circular.self = circular
  t.equal(redactSecrets(circular), circular)
})
