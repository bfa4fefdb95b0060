// Whether telemetry made now can reach its collector. `npm start` exports to localhost:4318 whether
// or not a collector listens there, and with none every item made for it is work thrown away: its
// exports fail (after the exporter's retries, seconds later) and the SDK's full queue drops the rest
// unseen. The gate closes at a failed export, so what feeds the exporter can skip its work and count
// the item lost, and lets one item through per probe interval: the export that carries it says
// whether the collector is back, and any success opens the gate again.

export interface ExportGateOptions {
  /** How long after a failure the next item is let through to find out whether the collector is back. */
  probeIntervalMs: number
  /** Milliseconds from any origin; a test's clock. */
  now?: () => number
}

export class ExportGate {
  readonly #probeIntervalMs: number
  readonly #now: () => number
  #failedAt: number | undefined
  #probing = false

  constructor ({ probeIntervalMs, now = () => performance.now() }: ExportGateOptions) {
    this.#probeIntervalMs = probeIntervalMs
    this.#now = now
  }

  /** Whether the collector took the last export (or none has ended yet). */
  get up (): boolean {
    return this.#failedAt === undefined
  }

  /**
   * Whether an item made now should be made and exported: yes while exports succeed; while they
   * fail, yes for one item once the probe interval has passed, until an export ends again.
   */
  open (): boolean {
    if (this.#failedAt === undefined) return true
    if (this.#probing || this.#now() - this.#failedAt < this.#probeIntervalMs) return false
    this.#probing = true
    return true
  }

  /** Told how every export ended. */
  settled (ok: boolean): void {
    // A batch made before the gate closed may end after a probe was let through; either way the
    // next probe waits a whole interval from the latest failure.
    this.#probing = false
    this.#failedAt = ok ? undefined : this.#now()
  }
}
