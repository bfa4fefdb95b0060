// Several sockets listening on one port, each handing its connections to the one HTTP server.
// libuv, under Node.js, accepts one connection per turn of the event loop (libuv/libuv#3696). Past
// capacity a turn of the loop takes milliseconds (5 ms at twice the capacity on PostgreSQL), so
// one socket accepted about 200 connections a second: new clients waited seconds in the kernel's
// queue before Parley could answer or even refuse them (measured: p99 3.4 s for a refusal the
// server made in 0.5 ms). With SO_REUSEPORT the kernel spreads new connections over the sockets,
// and each accepts one a turn. Connections are counted across all of them, for MAX_CONNECTIONS.
import { createServer, type AddressInfo, type ListenOptions, type Server as NetServer, type Socket } from 'node:net'
import type { Server as HttpServer } from 'node:http'

/**
 * Connections the kernel holds for each socket until the server accepts them (Node.js's own
 * default is 511; the kernel caps it at net.core.somaxconn, 4096 on Linux since 5.4). Past
 * capacity, clients opened connections faster than a busy server accepted them, and the kernel
 * dropped the overflow: each dropped connection was retried a second later.
 */
export const LISTEN_BACKLOG = 4096

/** Sockets to listen on when LISTEN_SOCKETS is 0: SO_REUSEPORT spreads connections on Linux only. */
export function defaultListenSockets (platform: NodeJS.Platform = process.platform): number {
  return platform === 'linux' ? 8 : 1
}

export interface ListenAddress { host: string, port: number }

interface SocketOptions { backlog: number, reusePort: boolean }

/** The listen options of the server's own socket: shareable when others are to join it. */
export function primaryListenOptions ({ host, port }: ListenAddress, sockets: number): ListenAddress & SocketOptions {
  return { host, port, backlog: LISTEN_BACKLOG, reusePort: sockets > 1 }
}

/**
 * Fails with EADDRINUSE when any socket listens on the address. Sockets that share a port join any
 * group of the same user's: a second Parley started on the port of a first would have taken half
 * of its connections rather than stopping at once. (Two started at the same instant could both
 * pass; one already listening never does.)
 */
export async function claimPort ({ host, port }: ListenAddress): Promise<void> {
  if (port === 0) return
  const probe = createServer()
  await listen(probe, { host, port, exclusive: true })
  await new Promise(resolve => probe.close(resolve))
}

/** Listens, or rejects with why it cannot (EADDRINUSE…). */
async function listen (server: NetServer, options: ListenOptions): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

export class ListenSockets {
  private open = 0
  private readonly siblings: NetServer[] = []

  /**
   * Counts the server's connections, whichever socket accepted them; past `maxConnections` (0: no
   * cap) a new one is closed at once.
   */
  constructor (private readonly server: HttpServer, private readonly maxConnections: number) {
    server.prependListener('connection', (socket: Socket) => {
      this.open++
      socket.once('close', () => { this.open-- })
      if (this.maxConnections > 0 && this.open > this.maxConnections) socket.destroy()
    })
  }

  connections (): number { return this.open }

  /** Opens `sockets - 1` more sockets on the address the server listens on (it listens already, with reusePort). */
  async addSiblings (address: AddressInfo, sockets: number): Promise<void> {
    const options = { host: address.address, port: address.port, backlog: LISTEN_BACKLOG, reusePort: true }
    for (let n = 1; n < sockets; n++) {
      const sibling = createServer(socket => { this.server.emit('connection', socket) })
      this.siblings.push(sibling)
      await listen(sibling, options)
    }
  }

  /**
   * Stops the other sockets accepting, as the server's own does when it closes. Their connections
   * stay the server's, which closes them.
   */
  closeSiblings (): void {
    for (const sibling of this.siblings.splice(0)) sibling.close()
  }
}
