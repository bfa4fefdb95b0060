// One rotating log file (pino-roll) that survives its own failures: a full disk, a permission
// error or a deleted directory stops this file only. While it is down its lines are counted and
// dropped (the other destinations still get them), and it is retried until it works again.
import { once } from 'node:events'
import { basename, join } from 'node:path'
import { fstat } from 'node:fs'
import { open, rename, symlink, unlink } from 'node:fs/promises'
import pinoRoll, { type RollingStream } from 'pino-roll'
import { currentLinkPath, type LogFamily } from './log-files.js'

export interface DestinationReport {
  family: LogFamily
  state: 'ok' | 'failed'
  /** The file being written, when ok. */
  file?: string
  error?: string
  /** Lines dropped during the failure that just ended (only on recovery). */
  dropped?: number
  since: string
  message: string
}

export interface FileDestinationOptions {
  dir: string
  family: LogFamily
  maxSize: string
  frequency: 'daily' | 'hourly'
  checkIntervalMs: number
  report: (state: DestinationReport) => void
  /** Flush each write to disk before the next (the audit log: its hash chain is its proof). */
  fsync?: boolean
}

async function endsMidLine (file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => undefined)
  if (handle === undefined) return false
  try {
    const { size } = await handle.stat()
    if (size === 0) return false
    const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1)
    return buffer[0] !== 0x0a
  } finally {
    await handle.close()
  }
}

export class FileDestination {
  /**
   * Called when a failure ends, before the file takes lines again, with the number of lines
   * dropped (at least: a line in flight when it failed is lost too); a line it returns is
   * written first.
   */
  onRecovered?: (dropped: number) => Promise<string | undefined>
  private stream: RollingStream | undefined
  /** Whether a rotation's reopen has named its file and not opened it yet. */
  private reopenPending = (): boolean => false
  private failure: { error: string, since: Date, dropped: number } | undefined
  private readonly timer: NodeJS.Timeout
  private closed = false
  /** The rotations' links and reports, one after another, so that the last file is the one named. */
  private rotationsDone = Promise.resolve()
  private opening: Promise<void> | undefined

  constructor (private readonly options: FileDestinationOptions) {
    this.timer = setInterval(() => this.check(), options.checkIntervalMs).unref()
  }

  get writable (): boolean {
    return this.stream !== undefined
  }

  write (line: string): void {
    if (this.stream === undefined) this.drop()
    else this.stream.write(line + '\n')
  }

  drop (): void {
    if (this.failure !== undefined) this.failure.dropped++
  }

  /**
   * Opens today's file, or joins the opening under way: the check every checkIntervalMs retries a
   * file not open yet, and a first open slower than that (a busy machine) got a second stream on
   * the same file, whose reports and link could name the file before a rotation.
   */
  async open (): Promise<void> {
    this.opening ??= this.openStream().finally(() => { this.opening = undefined })
    await this.opening
  }

  private async openStream (): Promise<void> {
    const { dir, family } = this.options
    try {
      const stream = await pinoRoll({
        file: join(dir, family),
        extension: '.log',
        dateFormat: 'yyyy-MM-dd',
        size: this.options.maxSize,
        frequency: this.options.frequency,
        mkdir: true,
        fsync: this.options.fsync === true
      })
      if (stream.file === null) await once(stream, 'ready') // rejects on the stream's 'error'
      const file = stream.file!
      // pino-roll rotates by reopening the stream on a new file; 'ready' follows each reopen, and
      // until then stream.file names the new file already.
      let opened = file
      stream.on('ready', () => {
        opened = stream.file ?? opened
        if (this.stream === stream) this.rotated(opened)
      })
      this.reopenPending = () => stream.file !== opened
      stream.on('error', (error: Error) => { if (this.stream === stream) this.fail(error) })
      // A crash can leave today's file ending mid-line; without a newline the next line would be glued to it.
      if (await endsMidLine(file)) stream.write('\n')
      await this.link(file)
      const failure = this.failure
      // Asked before the file takes lines again, so that its answer is the first line after the gap.
      const first = failure === undefined ? undefined : await this.onRecovered?.(failure.dropped)
      this.stream = stream
      this.failure = undefined
      if (first !== undefined) stream.write(first + '\n')
      // A rotation while it was being opened (today's file was full already) went unlinked.
      if (opened !== file) this.rotated(opened)
      this.options.report({
        family,
        state: 'ok',
        file,
        dropped: failure?.dropped,
        since: new Date().toISOString(),
        message: failure === undefined
          ? `writing ${file}`
          : `log file ${file} works again after ${Math.round((Date.now() - failure.since.getTime()) / 1000)} s; ` +
            `${failure.dropped} lines were dropped meanwhile`
      })
    } catch (error) {
      this.fail(error as Error)
    }
  }

  private fail (error: Error): void {
    const stream = this.stream
    this.stream = undefined
    stream?.destroy()
    if (this.failure !== undefined || this.closed) return
    this.failure = {
      error: `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}`,
      since: new Date(),
      dropped: 0
    }
    this.options.report({
      family: this.options.family,
      state: 'failed',
      error: this.failure.error,
      since: this.failure.since.toISOString(),
      message: `log file ${this.options.family} in ${this.options.dir} failed (${this.failure.error}); ` +
        `its lines are dropped until it works again, retrying every ${this.options.checkIntervalMs / 1000} s`
    })
  }

  /** Retries a failed file; notices a healthy one whose file or directory was deleted under it. */
  private async check (): Promise<void> {
    if (this.closed) return
    if (this.stream === undefined) {
      await this.open()
      return
    }
    // Asked of the open descriptor, not the path: during a rotation the new path may not exist yet.
    const { file, fd } = this.stream
    if (file === null || fd < 0) return
    const links = await new Promise<number | undefined>(resolve =>
      fstat(fd, (error, stats) => resolve(error === null ? stats.nlink : undefined)))
    if (links === 0 && this.stream?.fd === fd) {
      this.fail(Object.assign(new Error(`${file} was removed`), { code: 'ENOENT' }))
    }
  }

  private rotated (file: string): void {
    this.rotationsDone = this.rotationsDone.then(async () => {
      await this.link(file)
      this.options.report({
        family: this.options.family,
        state: 'ok',
        file,
        since: new Date().toISOString(),
        message: `writing ${file}`
      })
    })
  }

  /** Points `<family>.log` at the file being written, replacing the link atomically. */
  private async link (file: string): Promise<void> {
    const link = currentLinkPath(this.options.dir, this.options.family)
    const temporary = `${link}.${process.pid}.tmp`
    try {
      await unlink(temporary).catch(() => {})
      await symlink(basename(file), temporary)
      await rename(temporary, link)
    } catch {
      // The link is a convenience for people; the file itself is what must not fail.
    }
  }

  async close (): Promise<void> {
    this.closed = true
    clearInterval(this.timer)
    const stream = this.stream
    if (stream === undefined) return
    // sonic-boom (4.2.1, and 5.0.2 still) never closes a stream ended while a reopen waits for a
    // write in flight, as pino-roll's timed rotation's can: the shutdown hung until it was killed,
    // and the lines after the write were lost. Such a reopen has named its file; it is let open.
    if (this.reopenPending()) await once(stream, 'ready').catch(() => {})
    await new Promise<void>(resolve => {
      stream.once('close', resolve)
      stream.once('error', () => resolve())
      stream.end()
    })
    // A close can land on a rotation: its reopen's 'ready' comes before 'close', its link after.
    await this.rotationsDone
  }
}
