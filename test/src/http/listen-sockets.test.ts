// Several sockets on one port (this test is about the network, so it listens on 127.0.0.1): each
// hands its connections to the one HTTP server, the connections are capped across all of them, and
// closing leaves none listening.
import { once } from 'node:events'
import { createServer } from 'node:http'
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import t from 'tap'
import { claimPort, defaultListenSockets, ListenSockets, primaryListenOptions } from '../../../src/http/listen-sockets.js'
import { listeningOn } from '../../helper.js'

async function serve (sockets: number, maxConnections: number) {
  const server = createServer((_request, response) => { response.end('served') })
  const listening = new ListenSockets(server, maxConnections)
  await new Promise<void>(resolve => server.listen(primaryListenOptions({ host: '127.0.0.1', port: 0 }, sockets), resolve))
  await listening.addSiblings(server.address() as AddressInfo, sockets)
  const port = (server.address() as AddressInfo).port
  return { server, listening, port }
}

/** A connection that has been served a request (so the server has taken it), kept open. */
async function servedConnection (port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  socket.setEncoding('utf8')
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  let answer = ''
  await new Promise<void>(resolve => socket.on('data', (chunk: string) => {
    answer += chunk
    if (answer.includes('served')) resolve()
  }))
  return socket
}

/** What a new connection gets for a request: the answer, or '' when it is closed without one. */
async function oneRequest (port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  socket.setEncoding('utf8')
  let answer = ''
  socket.on('data', (chunk: string) => { answer += chunk })
  // A connection closed at once may be reset: it is answered nothing all the same.
  socket.on('error', () => {})
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  await new Promise(resolve => socket.once('close', resolve))
  return answer
}

t.test('SO_REUSEPORT spreads connections on Linux only: one socket elsewhere', async t => {
  t.equal(defaultListenSockets('linux'), 8)
  t.equal(defaultListenSockets('darwin'), 1)
  t.equal(defaultListenSockets('win32'), 1)
  t.same(primaryListenOptions({ host: 'h', port: 1 }, 1), { host: 'h', port: 1, backlog: 4096, reusePort: false })
  t.equal(primaryListenOptions({ host: 'h', port: 1 }, 2).reusePort, true)
})

t.test('every socket on the port hands its connections to the one server; closing leaves none listening', async t => {
  const { server, listening, port } = await serve(4, 0)
  t.equal(await listeningOn(port), 4, 'four sockets listen on the port')
  const answers = await Promise.all(Array.from({ length: 40 }, async () => await oneRequest(port)))
  t.equal(answers.filter(answer => answer.includes('served')).length, 40, 'each of 40 new connections is served')
  listening.closeSiblings()
  await new Promise(resolve => server.close(resolve))
  t.equal(await listeningOn(port), 0, 'none listens after closing')
  t.equal(listening.connections(), 0, 'every connection counted is gone')
})

t.test('MAX_CONNECTIONS caps the connections open across all the sockets', async t => {
  const { server, listening, port } = await serve(4, 3)
  t.teardown(async () => {
    listening.closeSiblings()
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  const held = await Promise.all(Array.from({ length: 3 }, async () => await servedConnection(port)))
  t.equal(listening.connections(), 3)
  // Spread by the kernel over the four sockets: a cap per socket would let most of them in.
  const past = await Promise.all(Array.from({ length: 12 }, async () => await oneRequest(port)))
  t.same(past, past.map(() => ''), 'each of 12 more is closed without an answer')
  held[0]!.destroy()
  await t.resolves(async () => {
    while (listening.connections() > 2) await new Promise(resolve => setTimeout(resolve, 10))
  })
  t.match(await oneRequest(port), /served/, 'one closed, a new one is served')
  for (const socket of held) socket.destroy()
})

t.test('with one socket the port is not shared: another socket cannot join it', async t => {
  const { server, listening, port } = await serve(1, 0)
  t.equal(await listeningOn(port), 1)
  const intruder = createNetServer()
  intruder.listen({ host: '127.0.0.1', port, reusePort: true })
  const [error] = await once(intruder, 'error') as [NodeJS.ErrnoException]
  t.equal(error.code, 'EADDRINUSE')
  listening.closeSiblings()
  await new Promise(resolve => server.close(resolve))
})

t.test('a port any socket listens on is not claimed, even one that shares it', async t => {
  const { server, listening, port } = await serve(4, 0)
  await t.rejects(claimPort({ host: '127.0.0.1', port }), { code: 'EADDRINUSE' }, 'four sockets sharing it')
  listening.closeSiblings()
  await new Promise(resolve => server.close(resolve))
  await t.resolves(claimPort({ host: '127.0.0.1', port }), 'free once they are closed')
  t.equal(await listeningOn(port), 0, 'the claim itself leaves nothing listening')
})
