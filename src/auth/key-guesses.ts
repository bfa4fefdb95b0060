// Wrong API keys, counted per address: past WRONG_KEYS_PER_MINUTE in a minute, every request with
// a key from that address is refused (429) until the minute is over, the right key too, so that
// guessing learns nothing more. Without it 300 wrong keys went through in 7.7 s. A request with no
// key is not counted: anonymous chat is open, and its own limits apply.
export interface KeyGuessesOptions {
  /** Wrong keys an address may send in a window; 0: no limit. */
  max: number
  now: () => number
  windowMs?: number
  /**
   * Addresses followed at once; past it, new ones share one window (a flood from many addresses is
   * throttled together).
   */
  maxSources?: number
}

interface Window { startedAt: number, wrong: number }

const OTHERS = 'others'

export class KeyGuesses {
  private readonly windows = new Map<string, Window>()
  private readonly windowMs: number
  private readonly maxSources: number

  constructor (private readonly options: KeyGuessesOptions) {
    this.windowMs = options.windowMs ?? 60_000
    this.maxSources = options.maxSources ?? 10_000
  }

  /** Seconds until the address may try a key again; 0 when it may now. */
  retryAfter (address: string): number {
    const window = this.current(this.key(address))
    if (window === undefined || this.options.max === 0 || window.wrong < this.options.max) return 0
    return Math.max(1, Math.ceil((window.startedAt + this.windowMs - this.options.now()) / 1000))
  }

  /** A wrong key from the address. */
  wrong (address: string): void {
    if (this.options.max === 0) return
    const key = this.key(address)
    const window = this.current(key)
    if (window === undefined) this.windows.set(key, { startedAt: this.options.now(), wrong: 1 })
    else window.wrong++
  }

  private key (address: string): string {
    if (this.windows.has(address)) return address
    if (this.windows.size < this.maxSources) return address
    this.sweep()
    return this.windows.size < this.maxSources ? address : OTHERS
  }

  private current (key: string): Window | undefined {
    const window = this.windows.get(key)
    if (window !== undefined && this.options.now() - window.startedAt >= this.windowMs) {
      this.windows.delete(key)
      return undefined
    }
    return window
  }

  private sweep (): void {
    const now = this.options.now()
    for (const [key, window] of this.windows) if (now - window.startedAt >= this.windowMs) this.windows.delete(key)
  }
}
