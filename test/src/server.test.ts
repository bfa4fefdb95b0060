// The real server process (this test is about the network and signals, so it listens on a port):
// SIGTERM lets in-flight turns finish, then exits 0 with the database closed.
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createServerDatabase, waitFor } from '../helper.js'
import { startServer } from '../server-process.js'

const serverUrl = process.env.TEST_DATABASE_URL
for (const engine of serverUrl === undefined || serverUrl === '' ? ['pglite'] : ['pglite', 'postgres']) {
  t.test(`${engine}: SIGTERM finishes in-flight turns and exits 0`, async t => {
    const database = engine === 'postgres' ? await createServerDatabase(serverUrl!) : undefined
    if (database !== undefined) t.teardown(() => database.drop())
    const server = await startServer(t, database === undefined ? {} : { DATABASE_URL: database.url })
    const turns = Array.from({ length: 20 }, (_, i) => fetch(`${server.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: `how do I configure the port? (${i})` })
    }))
    // SIGTERM once every turn is inside the server (queued on the database), not still connecting.
    const received = () => server.stdout().split('"msg":"chat.message_received"').length - 1
    t.ok(await waitFor(() => received() >= turns.length, 10_000, 10), 'every turn reached the server before SIGTERM')
    const exited = server.stop('SIGTERM')
    const statuses = (await Promise.allSettled(turns)).map(r => r.status === 'fulfilled' ? r.value.status : 'refused')
    t.equal(await exited, 0, 'exit code 0')
    t.same(statuses, turns.map(() => 200), 'every turn the server had received when SIGTERM came was answered')
    t.match(server.stdout(), /"signal":"SIGTERM","msg":"shutting down"/)
    t.match(server.stdout(), /"msg":"shut down"/, 'the shutdown ran to its end rather than being cut short by SHUTDOWN_TIMEOUT')
  })
}

t.test('started with Node.js options a worker thread may not be given (V8\'s), the server serves and logs', async t => {
  // The log router's worker inherits them as Node.js passes them on; given them as a list, Node.js
  // refused to start it, and the server with it.
  const server = await startServer(t, {}, ['--max-old-space-size=1024', '--stack-size=984'])
  const response = await fetch(`${server.base}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'how do I configure the port?' })
  })
  t.equal(response.status, 200)
  t.ok(await waitFor(() => server.stdout().includes('"msg":"chat.reply_sent"'), 5000, 10), 'its line, written by the log router\'s worker')
  t.equal(await server.stop('SIGTERM'), 0)
})

t.test('a client that sends part of its body and stalls is answered 408 and cut off after REQUEST_TIMEOUT; MAX_CONNECTIONS caps open connections', async t => {
  const server = await startServer(t, { REQUEST_TIMEOUT: '2', MAX_CONNECTIONS: '3' })
  const { hostname, port } = new URL(server.base)
  const slow = connect(Number(port), hostname)
  await once(slow, 'connect')
  const started = performance.now()
  slow.write('POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mes')
  let answer = ''
  slow.setEncoding('utf8').on('data', (chunk: string) => { answer += chunk })
  await once(slow, 'close')
  const seconds = (performance.now() - started) / 1000
  t.match(answer, /^HTTP\/1\.1 408/, 'a 408 before the socket is closed')
  t.ok(seconds >= 1.5 && seconds < 5, `cut off after ${seconds.toFixed(1)} s (REQUEST_TIMEOUT=2, checked every second)`)

  // Each served a request, so that the server has taken it: it listens on several sockets, and the
  // kernel hands their connections over in no set order. The server counts a connection out when it
  // has closed, a moment after its client saw it close: one closed at once meanwhile is tried again.
  const served = async (): Promise<Socket> => {
    for (let attempt = 1; ; attempt++) {
      const socket = connect(Number(port), hostname).on('error', () => {})
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
      const outcome = await new Promise(resolve => { socket.once('data', () => resolve('served')).once('close', () => resolve('closed')) })
      if (outcome === 'served') return socket
      if (attempt === 20) throw new Error('20 connections in a row were closed unserved')
      await sleep(50)
    }
  }
  const held = [await served(), await served(), await served()]
  const extra = connect(Number(port), hostname)
  const closed = await Promise.race([once(extra, 'close').then(() => true), sleep(2000).then(() => false)])
  t.ok(closed, 'a connection past MAX_CONNECTIONS is closed at once')
  for (const socket of held) socket.destroy()
  t.equal(await server.stop(), 0)
})

t.test('aborted uploads leave chatbot_requests_in_flight where it was', async t => {
  const server = await startServer(t)
  const { hostname, port } = new URL(server.base)
  const inFlight = async (): Promise<number> => Number(/^chatbot_requests_in_flight(?:\{[^}]*\})? (\d+)/m.exec(await (await fetch(`${server.base}/metrics`)).text())?.[1])
  const before = await inFlight()
  for (let i = 0; i < 10; i++) {
    const socket = connect(Number(port), hostname)
    await once(socket, 'connect')
    socket.write('POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"mes')
    await sleep(50)
    socket.destroy()
  }
  t.ok(await waitFor(async () => await inFlight() === before), `the gauge is back at ${before} (${await inFlight()})`)
  t.equal(await server.stop(), 0)
})
