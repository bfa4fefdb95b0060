// Under load, turns of different sessions end together, and PostgreSQL's cost of a turn's write is
// mostly the statement's, not its rows' (bench/README.md). A turn is written at once while few
// writes are in flight, as one statement of its own; past that, the turns that end meanwhile wait
// for a write to finish and then go together, one statement for all (SessionManager.recordTurns).
// Nothing is answered before its turn is stored: each turn's promise settles with its own write.
import { AsyncResource } from 'node:async_hooks'
import type { Queryable } from '../db/database.js'
import { addTurnTime } from '../logging/log-context.js'
import { endedMeanwhile, type SessionManager, type TurnMessages } from './session-manager.js'

/** Writes in flight before turns wait to go together: one turn's write, while another's is. */
export const WRITES_IN_FLIGHT = 2
/** At most this many turns in one statement. */
export const MAX_TURNS_A_WRITE = 32

interface Waiting {
  id: string
  messages: TurnMessages
  /** The turn's own context: its logs, its span and its database time. */
  scope: AsyncResource
  resolve: (turn: number) => void
  reject: (error: unknown) => void
}

export interface TurnWritesOptions {
  sessionManager: Pick<SessionManager, 'recordTurn' | 'recordTurns'>
  db: Queryable
  writesInFlight?: number
  maxTurnsAWrite?: number
}

export class TurnWrites {
  private readonly waiting: Waiting[] = []
  /** Sessions whose turn is being written: a session's next turn waits for the write after. */
  private readonly writing = new Set<string>()
  private inFlight = 0

  constructor (private readonly options: TurnWritesOptions) {}

  /** recordTurn, with other sessions' turns when writes are already in flight: the turn's number. */
  async record (id: string, messages: TurnMessages): Promise<number> {
    return await new Promise<number>((resolve, reject) => {
      this.waiting.push({ id, messages, scope: new AsyncResource('parley.turn-write'), resolve, reject })
      this.flush()
    })
  }

  private flush (): void {
    const limit = this.options.writesInFlight ?? WRITES_IN_FLIGHT
    while (this.inFlight < limit) {
      const batch = this.next()
      if (batch.length === 0) return
      this.inFlight++
      for (const { id } of batch) this.writing.add(id)
      this.write(batch).finally(() => {
        this.inFlight--
        for (const { id } of batch) this.writing.delete(id)
        this.flush()
      })
    }
  }

  /** The oldest waiting turns, one a session and none of a session being written. */
  private next (): Waiting[] {
    const max = this.options.maxTurnsAWrite ?? MAX_TURNS_A_WRITE
    const batch: Waiting[] = []
    const sessions = new Set<string>()
    for (let i = 0; i < this.waiting.length && batch.length < max;) {
      const turn = this.waiting[i]!
      if (this.writing.has(turn.id) || sessions.has(turn.id)) {
        i++
        continue
      }
      batch.push(turn)
      sessions.add(turn.id)
      this.waiting.splice(i, 1)
    }
    return batch
  }

  private async write (batch: Waiting[]): Promise<void> {
    const [first] = batch as [Waiting, ...Waiting[]]
    if (batch.length === 1) return await this.alone(first)
    const { sessionManager, db } = this.options
    const started = performance.now()
    let written: Map<string, number>
    try {
      // In the first turn's context: its span and its log lines name the statement.
      written = await first.scope.runInAsyncScope(async () =>
        await sessionManager.recordTurns(db, batch))
    } catch {
      // One turn's value can fail the statement for all: each is written alone, and fails alone.
      await Promise.all(batch.map(async turn => await this.alone(turn)))
      return
    }
    const ms = performance.now() - started
    for (const turn of batch) {
      if (turn !== first) turn.scope.runInAsyncScope(() => { addTurnTime('database_ms', ms) })
      const number = written.get(turn.id)
      if (number === undefined) turn.reject(endedMeanwhile(turn.id))
      else turn.resolve(number)
    }
  }

  private async alone (turn: Waiting): Promise<void> {
    const { sessionManager, db } = this.options
    try {
      const { id, messages } = turn
      turn.resolve(await turn.scope.runInAsyncScope(async () => await sessionManager.recordTurn(db, id, messages)))
    } catch (error) {
      turn.reject(error)
    }
  }
}
