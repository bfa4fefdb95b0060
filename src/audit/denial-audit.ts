// Refused requests stay visible in the audit trail without letting one client grow it without
// bound (a client sending a thousand unauthenticated admin requests a second wrote a thousand audit
// rows and lines a second). The first refusal of a source (who it claimed to be, from which
// address, with which status) in a window is recorded at once; the others of that window are
// counted and recorded as one entry when the window is over.
import type { AuditEvent } from './audit-trail.js'

export interface Denial { actor: string, address: string, target: string, status: number }

interface Window {
  startedAt: number
  repeated: number
  lastTarget: string
  actor: string
  address: string
  status: number
}

export interface DenialAuditOptions {
  record: (event: AuditEvent) => Promise<void>
  now: () => Date
  windowMs?: number
  /** Sources followed at once; past it, refusals from new sources share one window. */
  maxSources?: number
}

const OTHERS = 'others'

export class DenialAudit {
  private readonly windows = new Map<string, Window>()
  private readonly record: (event: AuditEvent) => Promise<void>
  private readonly now: () => Date
  private readonly windowMs: number
  private readonly maxSources: number

  constructor (options: DenialAuditOptions) {
    this.record = options.record
    this.now = options.now
    this.windowMs = options.windowMs ?? 60_000
    this.maxSources = options.maxSources ?? 10_000
  }

  async denied (denial: Denial): Promise<void> {
    const now = this.now().getTime()
    let key = `${denial.actor}|${denial.address}|${denial.status}`
    if (!this.windows.has(key) && this.windows.size >= this.maxSources) key = OTHERS
    const window = this.windows.get(key)
    if (window !== undefined && now - window.startedAt < this.windowMs) {
      window.repeated++
      window.lastTarget = denial.target
      return
    }
    if (window !== undefined) await this.close(key, window)
    this.windows.set(key, {
      startedAt: now,
      repeated: 0,
      lastTarget: denial.target,
      actor: denial.actor,
      address: key === OTHERS ? OTHERS : denial.address,
      status: denial.status
    })
    await this.record({
      actor: denial.actor,
      action: 'auth.denied',
      target: denial.target,
      result: 'denied',
      details: { status: denial.status, address: denial.address }
    })
  }

  /** Records the repeats of every window that is over (all of them with `all`: at shutdown). */
  async flush (all = false): Promise<void> {
    const now = this.now().getTime()
    for (const [key, window] of this.windows) {
      if (all || now - window.startedAt >= this.windowMs) await this.close(key, window)
    }
  }

  private async close (key: string, window: Window): Promise<void> {
    this.windows.delete(key)
    if (window.repeated === 0) return
    await this.record({
      actor: window.actor,
      action: 'auth.denied',
      target: window.lastTarget,
      result: 'denied',
      details: {
        status: window.status,
        address: window.address,
        repeated: window.repeated,
        since: new Date(window.startedAt).toISOString(),
        window_s: this.windowMs / 1000
      }
    })
  }
}
