// Listens on the port with several sockets (LISTEN_SOCKETS), so that a busy event loop still takes
// new connections as fast as they come (src/http/listen-sockets.ts), and caps the connections open
// across them (MAX_CONNECTIONS). The server's entry points listen through app.listenOnSockets().
// While the app closes, the other sockets accept as long as the server's own does, and longer:
// until the server has closed. A connection waiting in a socket's queue when it stops listening is
// reset by the kernel, while one accepted is answered (503 shutting-down, plugins/load-shedding.ts).
import fp from 'fastify-plugin'
import type { AddressInfo } from 'node:net'
import {
  claimPort, defaultListenSockets, ListenSockets, primaryListenOptions, type ListenAddress
} from '../src/http/listen-sockets.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Listens on host and port with LISTEN_SOCKETS sockets; resolves once all of them accept. */
    listenOnSockets: (address: ListenAddress) => Promise<void>
  }
}

export default fp(async function listenSocketsPlugin (app) {
  const sockets = app.config.LISTEN_SOCKETS > 0 ? app.config.LISTEN_SOCKETS : defaultListenSockets()
  const listening = new ListenSockets(app.server, app.config.MAX_CONNECTIONS)
  app.decorate('listenOnSockets', async (address: ListenAddress) => {
    if (sockets > 1) await claimPort(address)
    await app.listen(primaryListenOptions(address, sockets))
    await listening.addSiblings(app.server.address() as AddressInfo, sockets)
  })
  app.addHook('onClose', async () => { listening.closeSiblings() })
}, { name: 'listen-sockets', dependencies: ['config'] })
