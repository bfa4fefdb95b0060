import { Writable } from 'node:stream'
import t from 'tap'
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api'
import { SharedStorageContextManager } from '../../../src/logging/shared-storage-context-manager.js'
import { createAuditLogger, createLogger, isoTime } from '../../../src/logging/logger.js'

function capture (): { destination: Writable, lines: () => Array<Record<string, any>> } {
  const chunks: string[] = []
  const destination = new Writable({ write (chunk, _encoding, done) { chunks.push(String(chunk)); done() } })
  return { destination, lines: () => chunks.join('').trim().split('\n').map(line => JSON.parse(line)) }
}

const identity = { service: 'parley', version: '0.0.0', env: 'test' }

t.test('the time of a line is pino\'s ISO time, to the millisecond, across seconds and days', async t => {
  const times = [
    0, 5, 42, 999, 1000, 1001,
    Date.UTC(2026, 10, 28, 12, 0, 0, 70), Date.UTC(2026, 10, 28, 23, 59, 59, 999),
    Date.UTC(2026, 10, 29), Date.UTC(2026, 10, 29, 0, 0, 0, 7)
  ]
  let now = 0
  const time = isoTime(() => now)
  for (const at of times) {
    now = at
    t.equal(time(), `,"time":"${new Date(at).toISOString()}"`, new Date(at).toISOString())
  }
  const { destination, lines } = capture()
  createLogger({ ...identity, level: 'info', destination }).info('now')
  t.match(lines()[0]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'the logger\'s lines carry it')
})

t.test('a line written in a span carries its trace_id, span_id and trace_flags, as the pino instrumentation named them', async t => {
  const manager = new SharedStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  t.teardown(() => { context.disable() })
  const { destination, lines } = capture()
  const logger = createLogger({ ...identity, level: 'info', destination })
  const audit = createAuditLogger({ ...identity, destination })
  const ids = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }
  const inSpan = (traceFlags: TraceFlags, write: () => void): void =>
    context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ ...ids, traceFlags })), write)
  inSpan(TraceFlags.SAMPLED, () => { logger.info('sampled'); audit.info('audited') })
  inSpan(TraceFlags.NONE, () => { logger.info('not sampled') })
  const invalidIds = { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.NONE }
  context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(invalidIds)), () => { logger.info('invalid') })
  logger.info('outside')
  const [sampled, audited, notSampled, invalid, outside] = lines()
  t.match(sampled, { msg: 'sampled', trace_id: ids.traceId, span_id: ids.spanId, trace_flags: '01' })
  t.match(audited, { trace_id: ids.traceId, span_id: ids.spanId, trace_flags: '01' }, 'audit entries too')
  t.match(notSampled, { trace_id: ids.traceId, trace_flags: '00' })
  for (const line of [invalid, outside]) {
    t.notOk('trace_id' in line! || 'span_id' in line! || 'trace_flags' in line!, `${line!.msg}: no trace fields`)
  }
})

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

t.test('an error logged as err, or alone, carries the app\'s error fields, and its message is scrubbed', async t => {
  const { destination, lines } = capture()
  const logger = createLogger({ ...identity, level: 'info', destination })
  logger.error({ err: new TypeError('no account for jane.doe@example.com from 10.1.2.3') }, 'failed')
  logger.error({ err: new TypeError('no account for kim@example.org from 10.9.9.9') })
  logger.error(new TypeError('no account for lee@example.net from 10.8.8.8'))
  logger.error({ err: new Error('lookup failed for ann@example.com') }, 'lookup failed for ann@example.com')
  const [first, second, third, fourth] = lines()
  t.match(first, { msg: 'failed', error_type: 'TypeError', error_message: 'no account for [EMAIL] from [IP]', fingerprint: /^[0-9a-f]{16}$/, stack: /^TypeError: no account for \[EMAIL\] from \[IP\]/ })
  t.notOk('err' in first!, 'the error becomes fields, not a nested object')
  t.equal(second!.fingerprint, first!.fingerprint, 'the same error from another user groups under one fingerprint')
  t.equal(second!.msg, 'no account for [EMAIL] from [IP]', 'an error logged without a message gets its scrubbed message')
  t.equal(third!.msg, 'no account for [EMAIL] from [IP]', 'so does an error logged alone')
  t.equal(fourth!.msg, 'lookup failed for [EMAIL]', 'a message given with an error is scrubbed too')
  for (const secret of ['jane.doe', 'kim@', 'lee@', 'ann@', '10.1.2.3', '10.9.9.9', '10.8.8.8']) t.notOk(JSON.stringify(lines()).includes(secret), `${secret} is in no line`)
})

t.test('something thrown that is not an Error is described, without a stack', async t => {
  const { destination, lines } = capture()
  createLogger({ ...identity, level: 'info', destination }).error({ err: { reason: 'mail bob@example.com' } }, 'rejected')
  t.match(lines()[0], { error_type: 'object', error_message: /\[EMAIL\]/, stack: '', frame: undefined })
})

t.test('audit entries are redacted by key too', async t => {
  const { destination, lines } = capture()
  createAuditLogger({ ...identity, destination }).info({ action: 'kb.put', details: { secret: 'top-secret-6' } }, 'audit')
  t.equal(lines()[0]!.details.secret, '[REDACTED]')
  t.equal(lines()[0]!.level, 'audit')
})
