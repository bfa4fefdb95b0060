// Whether a collector listens, as the process asks when it stops: a real socket each time.
import { createServer, type AddressInfo } from 'node:net'
import t from 'tap'
import { flushWithin, listensAt, otlpEndpoint, signalEndpoint } from '../../../src/telemetry/collector-probe.js'

async function listening (host: string): Promise<{ port: number, close: () => Promise<void> }> {
  const server = createServer(socket => socket.destroy())
  await new Promise<void>(resolve => server.listen(0, host, resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => { await new Promise(resolve => server.close(resolve)) }
  }
}

t.test('a port something listens on answers true, the same port closed false', async t => {
  const server = await listening('127.0.0.1')
  t.equal(await listensAt(`http://127.0.0.1:${server.port}`, 1000), true)
  t.equal(await listensAt(`http://localhost:${server.port}/v1/traces`, 1000), true, 'by name, with a path')
  await server.close()
  t.equal(await listensAt(`http://127.0.0.1:${server.port}`, 1000), false)
})

t.test('an IPv6 address in brackets', async t => {
  const server = await listening('::1').catch(() => undefined)
  if (server === undefined) {
    t.comment('no IPv6 loopback on this machine')
    return
  }
  t.teardown(server.close)
  t.equal(await listensAt(`http://[::1]:${server.port}`, 1000), true)
})

t.test('what is not a URL is no collector', async t => {
  t.equal(await listensAt('localhost:4318', 1000), false)
  t.equal(await listensAt('not a url', 1000), false)
})

// The endpoints are read from process.env, as the SDK reads them: each case sets its variables.
const OTLP_VARIABLES = ['', 'TRACES_', 'METRICS_', 'LOGS_'].map(signal => `OTEL_EXPORTER_OTLP_${signal}ENDPOINT`)
function withEndpoints<T> (variables: Record<string, string>, read: () => T): T {
  const saved = OTLP_VARIABLES.map(name => [name, process.env[name]] as const)
  for (const name of OTLP_VARIABLES) delete process.env[name]
  Object.assign(process.env, variables)
  try {
    return read()
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

t.test('a signal\'s endpoint: its own variable, then the common one, then the default', async t => {
  t.equal(withEndpoints({}, () => signalEndpoint('LOGS')), 'http://localhost:4318')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, () => signalEndpoint('LOGS')), 'http://collector:4318')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/v1/traces' }, () => signalEndpoint('TRACES')), 'http://traces:4318/v1/traces')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '' }, () => signalEndpoint('METRICS')), 'http://localhost:4318', 'empty is unset')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: '  ', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, () => signalEndpoint('LOGS')), 'http://collector:4318', 'blank is unset')
})

t.test('the common endpoint, as the start-up line and /status name it: the variable, unless empty or blank, or the default', async t => {
  t.equal(withEndpoints({}, otlpEndpoint), 'http://localhost:4318')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, otlpEndpoint), 'http://collector:4318')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }, otlpEndpoint), 'http://localhost:4318', 'empty: where the exporters send')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_ENDPOINT: ' \t' }, otlpEndpoint), 'http://localhost:4318', 'blank too')
  t.equal(withEndpoints({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/v1/traces' }, otlpEndpoint), 'http://localhost:4318', 'a signal\'s own is that signal\'s')
})

t.test('the last flush is waited for while a collector listens, and not at all when none does', async t => {
  const server = await listening('127.0.0.1')
  const url = `http://127.0.0.1:${server.port}`
  let flushed = false
  const flush = new Promise<void>(resolve => setTimeout(() => { flushed = true; resolve() }, 20))
  t.equal(await flushWithin(flush, [url], 60_000), true, 'it waited')
  t.ok(flushed, 'for the flush')
  const never = new Promise<void>(() => {})
  t.equal(await flushWithin(never, [url], 50), true, 'a flush that never ends is given up at the budget')
  t.equal(await flushWithin(Promise.reject(new Error('export failed')), [url], 60_000), true, 'a failed flush ends the wait too')
  await server.close()
  t.equal(await flushWithin(never, [url], 60_000), false, 'nothing listens: no wait')
  t.equal(await flushWithin(never, [url, 'http://127.0.0.1:1'], 60_000), false, 'at any of them')
  t.equal(await flushWithin(Promise.resolve(), [], 60_000), true, 'no collector to ask: the flush is waited for')
})
