// Under load, turns of different sessions begin together, and each read its session with a
// statement of its own: on server PostgreSQL such a read costs the driver's round trip on the
// event loop and the backend's statement, whatever the row (bench/README.md). A read goes at once
// while none is in flight; past that, the reads asked meanwhile wait for it and then go together,
// one statement for all (SessionManager.getMany). The embedded database runs one turn at a time,
// so its reads never wait.
import { AsyncResource } from 'node:async_hooks'
import { isUuid } from '../http/schemas.js'
import { addTurnTime } from '../logging/log-context.js'

/** Reads in flight before others wait to go together. */
export const READS_IN_FLIGHT = 1
/** At most this many sessions in one statement. */
export const MAX_SESSIONS_A_READ = 32

export interface SessionReadsOptions<T> {
  /** One session by id. */
  one: (id: string) => Promise<T | undefined>
  /** Several sessions by id (each a UUID), in one statement: those found, by id. */
  many: (ids: string[]) => Promise<Map<string, T>>
  readsInFlight?: number
  maxSessionsARead?: number
}

interface Waiting<T> {
  id: string
  /** The turn's own context: its logs, its span and its database time. */
  scope: AsyncResource
  resolve: (session: T | undefined) => void
  reject: (error: unknown) => void
}

export class SessionReads<T> {
  private readonly waiting: Array<Waiting<T>> = []
  private inFlight = 0

  constructor (private readonly options: SessionReadsOptions<T>) {}

  /** The session with this id, read alone or with others asked for meanwhile. */
  async get (id: string): Promise<T | undefined> {
    // Only a well-formed id joins others: one the database cannot read as a UUID would fail them all.
    if (!isUuid(id)) return await this.options.one(id)
    return await new Promise<T | undefined>((resolve, reject) => {
      this.waiting.push({ id, scope: new AsyncResource('parley.session-read'), resolve, reject })
      this.flush()
    })
  }

  private flush (): void {
    const limit = this.options.readsInFlight ?? READS_IN_FLIGHT
    const max = this.options.maxSessionsARead ?? MAX_SESSIONS_A_READ
    while (this.inFlight < limit && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, max)
      this.inFlight++
      this.read(batch).finally(() => {
        this.inFlight--
        this.flush()
      })
    }
  }

  private async read (batch: Array<Waiting<T>>): Promise<void> {
    const [first] = batch as [Waiting<T>, ...Array<Waiting<T>>]
    if (batch.length === 1) return await this.alone(first)
    const started = performance.now()
    let found: Map<string, T>
    try {
      // In the first turn's context: its span and its log lines name the statement.
      found = await first.scope.runInAsyncScope(async () =>
        await this.options.many([...new Set(batch.map(({ id }) => id.toLowerCase()))]))
    } catch (error) {
      for (const read of batch) read.reject(error)
      return
    }
    const ms = performance.now() - started
    for (const read of batch) {
      if (read !== first) read.scope.runInAsyncScope(() => { addTurnTime('database_ms', ms) })
      read.resolve(found.get(read.id.toLowerCase()))
    }
  }

  private async alone (read: Waiting<T>): Promise<void> {
    try {
      read.resolve(await read.scope.runInAsyncScope(async () => await this.options.one(read.id)))
    } catch (error) {
      read.reject(error)
    }
  }
}
