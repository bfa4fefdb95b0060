import { Writable } from 'node:stream'
import t from 'tap'
import { createAuditLogger, createLogger } from '../../../src/logging/logger.js'

function capture (): { destination: Writable, lines: () => Array<Record<string, any>> } {
  const chunks: string[] = []
  const destination = new Writable({ write (chunk, _encoding, done) { chunks.push(String(chunk)); done() } })
  return { destination, lines: () => chunks.join('').trim().split('\n').map(line => JSON.parse(line)) }
}

const identity = { service: 'parley', version: '0.0.0', env: 'test' }

t.test('secrets in logged objects are redacted wherever they sit', async t => {
  const { destination, lines } = capture()
  const logger = createLogger({ ...identity, level: 'info', destination })
  logger.info({ password: 'top-secret-1', request: { headers: { 'x-api-key': 'top-secret-2', authorization: 'Bearer top-secret-3' } }, a: { b: { c: { token: 'top-secret-4' } } } }, 'hello')
  logger.child({ module: 'chat' }).info({ user: { apiKey: 'top-secret-5' } }, 'child')
  const text = JSON.stringify(lines())
  for (let i = 1; i <= 5; i++) t.notOk(text.includes(`top-secret-${i}`), `secret ${i} is not in the lines`)
  t.equal(lines()[0]!.request.headers['x-api-key'], '[REDACTED]')
  t.equal(lines()[1]!.user.apiKey, '[REDACTED]', 'in a child logger\'s lines too')
})

t.test('an error logged as err is scrubbed and fingerprinted like the app’s own error lines', async t => {
  const { destination, lines } = capture()
  const logger = createLogger({ ...identity, level: 'info', destination })
  const error = new TypeError('no account for jane.doe@example.com from 10.1.2.3')
  logger.error({ err: error }, 'failed')
  logger.error({ err: new TypeError('no account for kim@example.org from 10.9.9.9') }, 'failed')
  const [first, second] = lines()
  t.match(first!.err, { error_type: 'TypeError', error_message: 'no account for [EMAIL] from [IP]', fingerprint: /^[0-9a-f]{16}$/ })
  t.notOk(JSON.stringify(first).includes('jane.doe'), 'the address is in neither message nor stack')
  t.notOk(JSON.stringify(first).includes('10.1.2.3'))
  t.equal(first!.err.fingerprint, second!.err.fingerprint, 'the same error from another user groups under one fingerprint')
})

t.test('audit entries are redacted by key too', async t => {
  const { destination, lines } = capture()
  createAuditLogger({ ...identity, destination }).info({ action: 'kb.put', details: { secret: 'top-secret-6' } }, 'audit')
  t.equal(lines()[0]!.details.secret, '[REDACTED]')
  t.equal(lines()[0]!.level, 'audit')
})
