// The requests a server is still answering, so that a shutdown lets them finish before it closes
// what they use. Node.js's server.close() waits only for the connections its own socket accepted:
// those the other listening sockets hand it (listen-sockets.ts) were not waited for, and their
// turns met a closed database. Nor does it end a keep-alive connection whose request was in
// flight: the shutdown then waited for the client to let the connection go.
import type { ServerResponse } from 'node:http'

export class InFlightRequests {
  private readonly open = new Set<ServerResponse>()
  private onDrained: (() => void) | undefined

  /** Counts the response's request until the response has been sent, or its connection lost. */
  add (response: ServerResponse): void {
    this.open.add(response)
    response.once('close', () => {
      this.open.delete(response)
      if (this.open.size === 0) this.onDrained?.()
    })
  }

  count (): number { return this.open.size }

  /**
   * Resolves once every request counted has been answered. Each response not yet begun asks for
   * its connection to be closed after it, so that no client sends another request on it; what
   * is left then is idle, and the server's close() ends it.
   */
  async drain (): Promise<void> {
    for (const response of this.open) if (!response.headersSent) response.setHeader('connection', 'close')
    if (this.open.size > 0) await new Promise<void>(resolve => { this.onDrained = resolve })
    // The server counts a connection idle only after its response's close event.
    await new Promise(resolve => setImmediate(resolve))
  }
}
