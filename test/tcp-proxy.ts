// A TCP proxy in front of the PostgreSQL server that a test can cut and restore, as a network
// partition or a database restart would: cut() resets every open connection and refuses new ones.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import type { Test } from 'tap'

export interface TcpProxy {
  port: number
  cut: () => Promise<void>
  restore: () => Promise<void>
}

export async function startTcpProxy (t: Test, target: { host: string, port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  const listen = async (): Promise<void> => {
    server = createServer(client => {
      const upstream = connect(target.port, target.host)
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream).pipe(client)
    })
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as { port: number }).port
  }
  const cut = async (): Promise<void> => {
    const closed = server === undefined ? undefined : new Promise(resolve => server!.close(resolve))
    for (const socket of sockets) socket.resetAndDestroy()
    await closed
    server = undefined
  }
  await listen()
  t.teardown(cut)
  return { port, cut, restore: listen }
}

/** A proxy in front of the PostgreSQL server of `databaseUrl`, and that URL through it. */
export async function behindProxy (t: Test, databaseUrl: string): Promise<{ proxy: TcpProxy, url: string }> {
  const url = new URL(databaseUrl)
  const proxy = await startTcpProxy(t, { host: url.hostname, port: Number(url.port || 5432) })
  url.host = `127.0.0.1:${proxy.port}`
  return { proxy, url: url.toString() }
}
