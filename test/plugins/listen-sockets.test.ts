// The app listens through app.listenOnSockets() with LISTEN_SOCKETS sockets on its port (this test
// is about the network, so it listens on 127.0.0.1), every socket accepts until the app has closed,
// and none of them accepts once it has.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { Worker } from 'node:worker_threads'
import t from 'tap'
import { startScriptedModel } from '../../bench/scripted-model.js'
import { defaultListenSockets } from '../../src/http/listen-sockets.js'
import { buildTestApp, listeningOn, waitFor } from '../helper.js'

for (const [setting, sockets] of [['3', 3], ['0', defaultListenSockets()]] as const) {
  t.test(`LISTEN_SOCKETS=${setting}: ${sockets} sockets serve the app, and none is left after it closes`, async t => {
    const app = await buildTestApp(t, { LISTEN_SOCKETS: setting })
    await app.listenOnSockets({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    t.equal(await listeningOn(port), sockets)
    const statuses = await Promise.all(Array.from({ length: 20 }, async () =>
      (await fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' } })).status))
    t.same(statuses, statuses.map(() => 200), 'every request served')
    await app.close()
    t.equal(await listeningOn(port), 0)
  })
}

// The client is a worker thread: it connects while the app's event loop is held, so that its
// connections wait in the sockets' queues, accepted by the kernel and not yet by the app, when the
// app starts closing (as when a busy server gets SIGTERM).
const CLIENT = `
const { parentPort, workerData: { port, count, signal } } = require('node:worker_threads')
const { connect } = require('node:net')
const ready = new Int32Array(signal)
const body = JSON.stringify({ message: 'how do I view traces?' })
const outcomes = []
let sent = 0
for (let i = 0; i < count; i++) {
  const socket = connect(port, '127.0.0.1')
  let answer = ''
  let failure = ''
  socket.setEncoding('utf8')
  socket.on('connect', () => {
    const request = 'POST /v1/chat HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\n' +
      'Content-Length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body
    socket.write(request, () => {
      if (++sent === count) { Atomics.store(ready, 0, 1); Atomics.notify(ready, 0) }
    })
  })
  socket.on('data', chunk => { answer += chunk })
  socket.on('error', error => { failure = error.code })
  socket.on('close', () => {
    outcomes.push(failure || answer.split('\\r\\n')[0] + (answer.includes('shutting-down') ? ' shutting-down' : ''))
    if (outcomes.length === count) parentPort.postMessage(outcomes)
  })
}
`

t.test('connections waiting to be accepted when the app starts closing are answered, on every socket, not reset', async t => {
  const model = await startScriptedModel(t)
  // A turn in flight, so the close has something to wait for.
  model.script({ kind: 'answer', text: 'Open Jaeger and search by the trace id [1].', firstChunkDelayMs: 1000 })
  const app = await buildTestApp(t, { LISTEN_SOCKETS: '8', LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model' })
  await app.listenOnSockets({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const inFlight = fetch(`http://127.0.0.1:${port}/v1/chat`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'how do I view traces?' })
  })
  t.ok(await waitFor(() => model.requests.length === 1), 'a turn is with the model')

  const count = 24
  const signal = new SharedArrayBuffer(4)
  const client = new Worker(CLIENT, { eval: true, workerData: { port, count, signal } })
  t.teardown(() => client.terminate())
  const outcomes = once(client, 'message') as Promise<[string[]]>
  // Held until every connection is made and its request sent: none can have been accepted yet.
  t.equal(Atomics.wait(new Int32Array(signal), 0, 0, 10_000), 'ok', 'every request sent while the app was held')
  const closed = app.close()
  const [answers] = await outcomes
  t.same(answers, answers.map(() => 'HTTP/1.1 503 Service Unavailable shutting-down'), `each of ${count} refused with 503 shutting-down`)
  t.equal((await inFlight).status, 200, 'the turn in flight is answered')
  await closed
  t.equal(await listeningOn(port), 0, 'and none listens once closed')
})
