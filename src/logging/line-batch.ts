// Log lines gathered on the main thread and handed to the log writer's worker a batch at a time.
// Each hand-over wakes the worker (thread-stream's Atomics.notify, a futex wake), and thread-stream
// hands over once per turn of the event loop that wrote a line: under load, about once a line.
// Those wake-ups were 5 % of a busy main thread (bench:profile, full telemetry, 50 clients on
// PostgreSQL); a batch every few tens of milliseconds wakes the worker about twenty times a
// second; the worker's CPU a request fell by nearly half at 10 ms and again at 50 (DEVELOPING.md).

/** What a batch is handed to: thread-stream's ThreadStream, as pino.transport() returns it. */
export interface LineSink {
  write: (chunk: string) => boolean
}

export interface LineBatchOptions {
  /** The longest a line waits before it is handed over, in ms. */
  maxWaitMs: number
  /** A batch this long (in UTF-16 code units) is handed over at once. */
  maxChars: number
}

export class LineBatch {
  #pending = ''
  #timer: NodeJS.Timeout | undefined
  readonly #sink: LineSink
  readonly #options: LineBatchOptions

  constructor (sink: LineSink, options: LineBatchOptions) {
    this.#sink = sink
    this.#options = options
  }

  /** pino's destination write: one line, its newline included. */
  write (line: string): boolean {
    this.#pending += line
    if (this.#pending.length >= this.#options.maxChars) this.handOver()
    // Unref'd: a pending batch never holds a process open; every way out hands it over first.
    else this.#timer ??= setTimeout(() => this.handOver(), this.#options.maxWaitMs).unref()
    return true
  }

  /** Hands every line gathered so far to the sink, now. */
  handOver (): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    if (this.#pending === '') return
    const batch = this.#pending
    this.#pending = ''
    this.#sink.write(batch)
  }
}
