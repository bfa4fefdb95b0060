// One error, one fingerprint: the varying parts of a message (ids, numbers, personal data) are
// normalised away, the first frame of our own code is kept without its line, and anything thrown
// that is not an Error is described rather than traced.
import { join, sep } from 'node:path'
import t from 'tap'
import { errorLogFields, normaliseMessage, topProjectFrame } from '../../../src/logging/error-fingerprint.js'
import { projectRoot } from '../../../src/project.js'

const own = (path: string): string => join(projectRoot, ...path.split('/'))

/** A stack as V8 writes it, with the given frames. */
const stack = (message: string, ...frames: string[]): string => [`Error: ${message}`, ...frames.map(frame => `    at ${frame}`)].join('\n')

t.test('normaliseMessage: uuids, hex, numbers and personal data become placeholders', async t => {
  t.equal(normaliseMessage('session 52c16b89-9200-4a05-9159-9deabba9423a not found'), 'session <uuid> not found')
  t.equal(normaliseMessage('SESSION 52C16B89-9200-4A05-9159-9DEABBA9423A'), 'SESSION <uuid>', 'in any case')
  t.equal(normaliseMessage('pointer 0x7ffe12 and digest 4bf92f3577b34da6a3ce929d0e0e4736'), 'pointer <hex> and digest <hex>')
  t.equal(normaliseMessage('took 1532.5 ms for 3 rows'), 'took <n> ms for <n> rows')
  t.equal(normaliseMessage('deadbeef'), 'deadbeef', 'a short hex word is a word')
  t.equal(normaliseMessage('mail jane.doe@example.com failed'), 'mail [EMAIL] failed', 'scrubbed before anything else')
  t.equal(normaliseMessage(''), '')
})

t.test('topProjectFrame: the first frame of ours, without line, column or dist/', async t => {
  const trace = stack('boom',
    'process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    `Object.query (${own('node_modules/pg/lib/client.js')}:526:17)`,
    `ChatService.turn (${own('src/chat/chat-service.ts')}:120:11)`,
    `handler (${own('plugins/routes/chat.ts')}:40:3)`)
  t.equal(topProjectFrame(trace), ['src', 'chat', 'chat-service.ts'].join(sep), 'node internals and node_modules are passed over')
  t.equal(topProjectFrame(stack('x', `${own('dist/src/server.js')}:12:7`)), ['src', 'server.js'].join(sep), 'a bare frame, compiled: dist/ goes')
  t.equal(topProjectFrame(stack('x', 'node:internal/main:1:1', '/elsewhere/app.js:1:1')), undefined, 'no frame of ours')
  t.equal(topProjectFrame(stack(`first line ${own('src/a.ts')}:1:1`)), undefined, 'the message line is not a frame')
  t.equal(topProjectFrame(undefined), undefined)
  t.equal(topProjectFrame(''), undefined)
})

t.test('the same error with other ids and numbers has one fingerprint', async t => {
  const fail = (id: string, ms: number): Error => new TypeError(`session ${id} timed out after ${ms} ms`)
  const a = errorLogFields(fail('52c16b89-9200-4a05-9159-9deabba9423a', 1200))
  const b = errorLogFields(fail('0b7d2d6e-1111-4a05-8159-000000000000', 30))
  t.equal(a.error_type, 'TypeError')
  t.equal(a.error_message, 'session <uuid> timed out after <n> ms')
  t.match(a.fingerprint, /^[0-9a-f]{16}$/)
  t.equal(a.fingerprint, b.fingerprint)
  t.equal(a.frame, ['test', 'src', 'logging', 'error-fingerprint.test.ts'].join(sep), 'its frame is this file, in our code')
  t.match(a.stack, /^TypeError: session 52c16b89/, 'the stack is kept (scrubbed, not normalised)')
})

t.test('type, message and frame each tell fingerprints apart', async t => {
  const base = new Error('no such document')
  base.stack = stack('no such document', `load (${own('src/kb/knowledge-base.ts')}:10:1)`)
  const fingerprint = (error: Error): string => errorLogFields(error).fingerprint
  const otherType = new RangeError('no such document')
  otherType.stack = base.stack
  const otherMessage = new Error('no such collection')
  otherMessage.stack = base.stack
  const otherFrame = new Error('no such document')
  otherFrame.stack = stack('no such document', `load (${own('src/kb/document-files.ts')}:10:1)`)
  const otherLine = new Error('no such document')
  otherLine.stack = stack('no such document', `load (${own('src/kb/knowledge-base.ts')}:99:7)`)
  t.not(fingerprint(otherType), fingerprint(base))
  t.not(fingerprint(otherMessage), fingerprint(base))
  t.not(fingerprint(otherFrame), fingerprint(base))
  t.equal(fingerprint(otherLine), fingerprint(base), 'moving the code to another line keeps the fingerprint')
})

t.test('personal data in a message or stack is scrubbed, and does not split the fingerprint', async t => {
  const one = errorLogFields(new Error('no account for jane@example.com'))
  const two = errorLogFields(new Error('no account for bob@example.org'))
  t.equal(one.error_message, 'no account for [EMAIL]')
  t.notMatch(one.stack, /jane@example\.com/)
  t.equal(one.fingerprint.length, 16)
  // Different lines of this file, so compare without the frame: same type and message.
  t.equal(one.error_message, two.error_message)
})

t.test('an Error without a name takes its class\'s; without a stack it has no frame', async t => {
  class StorageFailure extends Error {}
  const nameless = new StorageFailure('disk full')
  nameless.name = ''
  t.equal(errorLogFields(nameless).error_type, 'StorageFailure')
  const stackless = new Error('lost')
  stackless.stack = undefined
  const fields = errorLogFields(stackless)
  t.equal(fields.frame, undefined)
  t.equal(fields.stack, '')
})

t.test('something thrown that is not an Error is described, not traced', async t => {
  const text = errorLogFields('order 42 failed')
  t.same({ ...text, fingerprint: undefined }, { error_type: 'string', error_message: "'order <n> failed'", fingerprint: undefined, frame: undefined, stack: '' })
  t.equal(text.fingerprint, errorLogFields('order 7 failed').fingerprint, 'normalised alike')
  t.equal(errorLogFields(null).error_type, 'null')
  t.equal(errorLogFields(undefined).error_type, 'undefined')
  t.equal(errorLogFields(404).error_message, '<n>')
  const object = errorLogFields({ code: 'E_LIMIT', user: 'jane@example.com', nested: { deep: { deeper: { deepest: 1 } } } })
  t.equal(object.error_type, 'object')
  // (The scrubber takes the quote before the address as part of it: an apostrophe may start one.)
  t.match(object.error_message, /^\{ code: 'E_LIMIT', user: '?\[EMAIL\]', nested: \{ deep: \{ deeper: \[Object\] \} \} \}$/, 'on one line, two levels deep, scrubbed')
  t.not(errorLogFields('x').fingerprint, errorLogFields(['x']).fingerprint, 'the type is part of it')
})
