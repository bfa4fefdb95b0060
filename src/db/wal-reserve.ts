// The embedded database's next write-ahead log segment, made ahead of need off the main thread.
// When the log fills a segment, PostgreSQL starts the next: with no segment waiting (server
// PostgreSQL's checkpointer makes them ahead and recycles old ones; PGlite's single-user backend
// has no checkpointer), the commit that crossed writes 16 MB of zeros and flushes them, all on the
// thread that answers chat: 30 to 95 ms every few thousand turns (bench/README.md). Here, once the
// log has moved to a segment, the next is written on libuv's thread pool, flushed, and given its
// name atomically only then (a hard link, which never replaces a file): PostgreSQL opens a
// segment that exists rather than making it, as it does a recycled one. If it needs one first,
// it makes it itself, as before, and the reserve's link finds the name taken.
import { randomUUID } from 'node:crypto'
import { access, link, open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

const SEGMENT_NAME = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/
// A segment being written: a name PostgreSQL ignores (not a segment's), removed if left over.
const PENDING_PREFIX = 'parley-next-segment.'
const CHUNK_BYTES = 1 << 20

export const isSegmentName = (name: string): boolean => SEGMENT_NAME.test(name)

/** The name of the segment `ahead` after `name`, for segments of `segmentBytes`. */
export function segmentAfter (name: string, ahead: number, segmentBytes: number): string {
  const [, timeline, high, low] = SEGMENT_NAME.exec(name)!
  const perHigh = 0x1_0000_0000 / segmentBytes
  const number = parseInt(high!, 16) * perHigh + parseInt(low!, 16) + ahead
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0')
  return `${timeline!}${hex(Math.floor(number / perHigh))}${hex(number % perHigh)}`
}

async function flushFolder (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try { await handle.datasync() } finally { await handle.close() }
}

export class WalReserve {
  private readonly walDir: string
  private readonly segmentBytes: number
  /** The segment the log was last seen writing, and the furthest one made or found after it. */
  private current: string | undefined
  private furthest: string | undefined
  private making: Promise<void> | undefined
  private closed = false

  constructor (dataDir: string, segmentBytes: number) {
    this.walDir = join(dataDir, 'pg_wal')
    this.segmentBytes = segmentBytes
  }

  /** Removes what a process that stopped midway left (before the database runs). */
  async clearLeftovers (): Promise<void> {
    for (const name of await readdir(this.walDir)) {
      if (name.startsWith(PENDING_PREFIX)) await rm(join(this.walDir, name), { force: true })
    }
  }

  /** PostgreSQL wrote to the segment `name`: on a new one, the next is made in the background. */
  written (name: string): void {
    if (name === this.current) return
    this.current = name
    // A segment not made (a full disk, say) is made by PostgreSQL when it needs it, as before.
    this.making ??= this.makeAhead().catch(() => {}).finally(() => { this.making = undefined })
  }

  /** Resolves once the segments being made are done (before the folder is let go). */
  async close (): Promise<void> {
    this.closed = true
    await this.making
  }

  // One segment ahead is enough: one lasts seconds even at capacity (16 MB of log, about 2,500
  // turns) and is made in a fraction of a second; each more is 16 MB more of the data folder.
  private async makeAhead (): Promise<void> {
    // Names of one timeline sort as their segments do (fixed-width hexadecimal). The log may have
    // moved on while a segment was made: the loop follows it.
    for (;;) {
      const next = segmentAfter(this.current!, 1, this.segmentBytes)
      if (this.closed || (this.furthest !== undefined && next <= this.furthest)) return
      await this.make(next)
      this.furthest = next
    }
  }

  private async make (name: string): Promise<void> {
    const path = join(this.walDir, name)
    // Made by an earlier process, or recycled by a checkpoint.
    if (await access(path).then(() => true, () => false)) return
    const pending = join(this.walDir, `${PENDING_PREFIX}${randomUUID()}`)
    try {
      const handle = await open(pending, 'wx')
      try {
        const zeros = Buffer.alloc(CHUNK_BYTES)
        for (let at = 0; at < this.segmentBytes; at += CHUNK_BYTES) {
          await handle.write(zeros, 0, Math.min(CHUNK_BYTES, this.segmentBytes - at), at)
        }
        await handle.datasync()
      } finally {
        await handle.close()
      }
      try {
        await link(pending, path)
      } catch (error) {
        // PostgreSQL got there first (it needed the segment sooner): its own is the segment.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      }
      await flushFolder(this.walDir)
    } finally {
      await rm(pending, { force: true })
    }
  }
}
