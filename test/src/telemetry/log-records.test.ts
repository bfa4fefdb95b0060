// Log records as the log router's worker makes them (src/telemetry/log-records.ts), driven here in the
// test's own thread and sent to a local OTLP/JSON receiver that decodes them independently.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { logRecordSender } from '../../../src/telemetry/log-records.js'
import { waitFor } from '../../helper.js'
import { OtlpReceiver } from '../../otlp-receiver.js'

// The exporters read the standard variables when they are made, as in the worker.
function setEnv (t: Test, name: string, value: string): void {
  const before = process.env[name]
  process.env[name] = value
  t.teardown(() => { if (before === undefined) delete process.env[name]; else process.env[name] = before })
}
const exportTo = (t: Test, endpoint: string): void => setEnv(t, 'OTEL_EXPORTER_OTLP_ENDPOINT', endpoint)
const sum = (counts: number[]): number => counts.reduce((total, count) => total + count, 0)

const time = '2026-11-22T10:00:00.000Z'

t.test('each line becomes a record: level, message, fields, its trace, the resource; what does not parse is skipped', async t => {
  const receiver = new OtlpReceiver()
  exportTo(t, await receiver.start())
  t.teardown(() => receiver.stop())
  const lost: number[] = []
  const sender = logRecordSender({ protocol: 'http/json', resource: { 'service.instance.id': 'instance-1' } }, count => lost.push(count))
  const traceId = randomBytes(16).toString('hex')
  const spanId = randomBytes(8).toString('hex')
  sender.send(JSON.stringify({ level: 'info', time, service: 'parley', module: 'chat', fn: 'handleTurn', sources: 2, trace_id: traceId, span_id: spanId, trace_flags: '01', msg: 'chat.reply_sent' }))
  sender.send(JSON.stringify({ level: 'error', time, module: 'error_handler', error_type: 'TypeError', error_message: 'boom', fingerprint: '0123456789abcdef', stack: 'TypeError: boom\n    at turn', msg: 'unhandled error' }))
  sender.send(JSON.stringify({ level: 'audit', time, action: 'kb.put', result: 'success', msg: 'audit' }))
  sender.send('not a JSON line')
  await sender.close(5000)

  t.same(receiver.logs.map(record => record.body), ['chat.reply_sent', 'unhandled error', 'audit'], 'three records, in order; the broken line is none')
  const [reply, error, audit] = receiver.logs
  t.match(reply, { traceId, severityText: 'info', severityNumber: 9, attributes: { module: 'chat', fn: 'handleTurn', sources: 2 } }, 'the line\'s trace and fields')
  t.notOk('trace_id' in reply!.attributes || 'time' in reply!.attributes || 'msg' in reply!.attributes, 'what became the record\'s own fields is not repeated as attributes')
  t.match(error, { severityNumber: 17, attributes: { 'exception.type': 'TypeError', 'exception.message': 'boom', 'exception.stacktrace': /at turn/, fingerprint: '0123456789abcdef' } }, 'an error line\'s fields are the exception attributes too')
  t.match(audit, { severityText: 'audit', severityNumber: 9, attributes: { action: 'kb.put' } })
  t.match(reply!.resource, { 'service.instance.id': 'instance-1', 'process.pid': process.pid }, 'the resource names the instance and the process')
  t.same(lost, [], 'nothing lost')
})

t.test('a collector that is not there: the loss is reported', async t => {
  const receiver = new OtlpReceiver()
  exportTo(t, await receiver.start())
  await receiver.stop() // nothing listens there any more
  const lost: number[] = []
  const sender = logRecordSender({ protocol: 'http/json', resource: {} }, count => lost.push(count))
  for (let i = 0; i < 3; i++) sender.send(JSON.stringify({ level: 'info', time, msg: `line ${i}` }))
  t.ok(await waitFor(() => lost.length > 0, 20_000, 50), `the failed export is reported (${lost.join(', ')} records)`)
  t.equal(sum(lost), 3)
  await sender.close(500)
})

t.test('a collector that never answers: closing keeps to its budget, the export still waiting', async t => {
  const waiting: ServerResponse[] = []
  const server = createServer((request, response) => { request.resume(); waiting.push(response) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const response of waiting) response.destroy(); server.close() })
  exportTo(t, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  // The export would wait ten minutes for its answer: were close to wait for it, the test would time out.
  setEnv(t, 'OTEL_EXPORTER_OTLP_TIMEOUT', '600000')
  const sender = logRecordSender({ protocol: 'http/json', resource: {} }, () => {})
  sender.send(JSON.stringify({ level: 'info', time, msg: 'the last line' }))
  await sender.close(200)
  t.ok(await waitFor(() => waiting.length === 1, 20_000, 20), 'the export was sent')
  t.notOk(waiting[0]!.headersSent, 'and is still unanswered: close did not wait for it')
})

t.test('while exports fail, lines are counted lost and never made records; a probe line finds the collector back', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  exportTo(t, endpoint)
  t.teardown(() => receiver.stop())
  await receiver.stop()
  // The exporter's retries end a failed export within this, not the default 10 s.
  setEnv(t, 'OTEL_EXPORTER_OTLP_TIMEOUT', '500')
  const lost: number[] = []
  const sender = logRecordSender({ protocol: 'http/json', resource: {} }, count => lost.push(count), { probeIntervalMs: 1000, skippedReportMs: 20 })
  t.teardown(() => sender.close(100))
  const line = (msg: string): string => JSON.stringify({ level: 'info', time, msg })

  sender.send(line('before the failure'))
  t.ok(await waitFor(() => sum(lost) === 1, 20_000), 'the first export fails')
  for (let i = 0; i < 10; i++) sender.send(line(`skipped ${i}`))
  t.ok(await waitFor(() => sum(lost) === 11, 2000), `the lines sent while it fails are counted lost (${lost.join(', ')})`)
  t.same(lost.slice(1), [10], 'in one count')

  await receiver.start(Number(new URL(endpoint).port))
  let probes = 0
  t.ok(await waitFor(() => {
    sender.send(line(`probe ${probes++}`))
    return receiver.logs.length > 0
  }, 10_000, 100), 'once the collector is back, a probe line reaches it')
  // The probe's record reaches the receiver before its export's answer reaches the exporter and
  // opens the gate: a line sent in between is still counted lost (a failed CI run sent one there).
  let after = 0
  t.ok(await waitFor(() => {
    sender.send(line(`after ${after++}`))
    return receiver.logs.some(record => String(record.body).startsWith('after'))
  }, 5000, 100), 'and the lines after it')
  t.notOk(receiver.logs.some(record => String(record.body).startsWith('skipped')), 'the skipped lines were never records')
})
