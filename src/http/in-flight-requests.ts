// The requests a server is still answering, so that a shutdown lets them finish before it closes
// what they use. Node.js's server.close() waits only for the connections its own socket accepted:
// those the other listening sockets hand it (listen-sockets.ts) were not waited for, and their
// turns met a closed database. Nor does it end a keep-alive connection whose request was in
// flight: the shutdown then waited for the client to let the connection go. And a chat turn goes
// on when its client goes away (it is still stored): its response closed, it met a closed database.
import type { ServerResponse } from 'node:http'

export class InFlightRequests {
  private readonly open = new Set<ServerResponse>()
  private readonly work = new Set<Promise<unknown>>()
  private onDrained: (() => void) | undefined

  /** Counts the response's request until the response has been sent, or its connection lost. */
  add (response: ServerResponse): void {
    this.open.add(response)
    response.once('close', () => {
      this.open.delete(response)
      this.settled()
    })
  }

  /** Counts work that goes on whether or not its client stays, until it settles; settles as it does. */
  async track<T> (work: Promise<T>): Promise<T> {
    this.work.add(work)
    try {
      return await work
    } finally {
      this.work.delete(work)
      this.settled()
    }
  }

  /** Responses not yet closed, and work not yet settled. */
  count (): number { return this.open.size + this.work.size }

  /**
   * Resolves once every request counted has been answered and all work tracked has settled. Each
   * response not yet begun asks for its connection to be closed after it, so that no client sends
   * another request on it; what is left then is idle, and the server's close() ends it.
   */
  async drain (): Promise<void> {
    for (const response of this.open) if (!response.headersSent) response.setHeader('connection', 'close')
    if (this.count() > 0) await new Promise<void>(resolve => { this.onDrained = resolve })
    // The server counts a connection idle only after its response's close event.
    await new Promise(resolve => setImmediate(resolve))
  }

  private settled (): void {
    if (this.count() === 0) this.onDrained?.()
  }
}
