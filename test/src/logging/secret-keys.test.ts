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

t.test('class instances are left to their serializers; nothing below the depth limit is written', async t => {
  const error = Object.assign(new Error('x'), { password: 'p' })
  t.equal(redactSecrets({ err: error }).err, error)
  let deep: Record<string, unknown> = { password: 'deep-secret' }
  for (let i = 0; i < 12; i++) deep = { level: deep }
  t.notOk(JSON.stringify(redactSecrets(deep)).includes('deep-secret'), 'a secret deeper than the limit is cut off with its branch')
  t.match(JSON.stringify(redactSecrets(deep)), /"\[Truncated\]"/)
  const circular: Record<string, unknown> = { name: 'loop', token: 't' }
  circular.self = circular
  t.notOk(JSON.stringify(redactSecrets(circular)).includes('"t"'), 'a circular object ends, its secrets redacted on every level')
})

t.test('a boolean under a secret name says only whether it is set', async t => {
  t.same(redactSecrets({ has_password: true, password_set: false }), { has_password: true, password_set: false })
})
