// The requests a server is still answering (this test is about connections, so it listens on
// 127.0.0.1): drain() waits for every one, and asks the connection of each response not yet begun
// to close after it.
import { createServer, Agent, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { InFlightRequests } from '../../../src/http/in-flight-requests.js'
import { waitFor } from '../../helper.js'

t.test('drain() resolves once every response counted has ended; those not begun close their connection', async t => {
  const inFlight = new InFlightRequests()
  const held: ServerResponse[] = []
  const server = createServer((_request, response) => {
    inFlight.add(response)
    held.push(response)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as AddressInfo
  const agent = new Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const get = async (): Promise<{ connection?: string, body: string }> => await new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, agent }, response => {
      let body = ''
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
      response.once('end', () => resolve({ connection: response.headers.connection, body }))
    }).once('error', reject).end()
  })
  const streamed = get()
  const whole = get()
  t.ok(await waitFor(() => held.length === 2), 'both requests are in flight')
  const [streaming, notBegun] = held as [ServerResponse, ServerResponse]
  streaming.write('first part, ')
  t.equal(inFlight.count(), 2)

  let drained = false
  const draining = inFlight.drain().then(() => { drained = true })
  notBegun.end('whole')
  t.same(await whole, { connection: 'close', body: 'whole' }, 'a response not yet begun tells its client the connection ends')
  t.notOk(drained, 'not drained while a response is still being sent')
  streaming.end('last part')
  t.same(await streamed, { connection: 'keep-alive', body: 'first part, last part' }, 'a streamed response already begun ends as it began')
  await draining
  t.equal(inFlight.count(), 0)
  await t.resolves(inFlight.drain(), 'with nothing in flight, drain() resolves')
})

t.test('a request whose client went away is no longer counted', async t => {
  const inFlight = new InFlightRequests()
  const server = createServer((_request, response) => { inFlight.add(response) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const { port } = server.address() as AddressInfo
  const gone = request({ host: '127.0.0.1', port })
  gone.once('error', () => {})
  gone.end()
  t.ok(await waitFor(() => inFlight.count() === 1), 'in flight')
  gone.destroy()
  t.ok(await waitFor(() => inFlight.count() === 0), 'its response closed with the connection')
})

t.test('drain() waits for the work tracked too, however it settles, and track() settles as the work does', async t => {
  const inFlight = new InFlightRequests()
  let finish = (): void => {}
  let fail = (_error: Error): void => {}
  const answered = inFlight.track(new Promise<string>(resolve => { finish = () => resolve('stored') }))
  const failed = inFlight.track(new Promise<never>((_resolve, reject) => { fail = reject }))
  t.equal(inFlight.count(), 2)
  let drained = false
  const draining = inFlight.drain().then(() => { drained = true })
  finish()
  t.equal(await answered, 'stored')
  t.notOk(drained, 'not drained while work is left')
  fail(new Error('the model failed'))
  await t.rejects(failed, { message: 'the model failed' })
  await draining
  t.equal(inFlight.count(), 0)
})
