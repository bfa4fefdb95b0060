// Decides, each evaluation, which rules hold; walks each rule through pending → firing →
// resolved like Prometheus does, and hands notifications to whoever sends them. Pure: the
// measurements and the clock come in, so a test can drive every transition.
import Type, { type Static } from 'typebox'
import { SEVERITIES, type AlertNotification } from './alert-notification.js'
import { MEASURES, type AlertRule, type MeasureName } from './alert-rules.js'
import type { MeasureReading } from '../health/sliding-window.js'

export type ReadMeasure = (measure: MeasureName, windowMs: number) => MeasureReading

export const AlertStateSchema = Type.Object({
  alert: Type.String(),
  severity: Type.Enum(SEVERITIES),
  state: Type.Enum(['inactive', 'pending', 'firing']),
  since: Type.Optional(Type.String({
    format: 'date-time',
    description: 'When the condition started to hold (pending or firing)'
  })),
  value: Type.Optional(Type.Number()),
  threshold: Type.Optional(Type.Number()),
  summary: Type.Optional(Type.String()),
  last_notified: Type.Optional(Type.String({ format: 'date-time' }))
})
export type AlertState = Static<typeof AlertStateSchema>

interface Tracking {
  state: AlertState['state']
  since?: Date
  lastNotified?: Date
  breach?: Breach
  /** Restored from before a restart: kept as it was until a condition can be judged, or until then. */
  heldUntil?: number
}
export interface Breach { value: number, threshold: number, summary: string }

/** A rule's state kept across a restart (alert-states.ts), when it is pending or firing. */
export interface SavedAlertState {
  alert: string
  state: 'pending' | 'firing'
  since: Date
  lastNotified?: Date
  breach: Breach
}

const format = (unit: string, value: number): string => {
  if (unit === 'ratio') return `${(value * 100).toFixed(value < 0.1 ? 2 : 1)}%`
  if (unit === 'seconds') {
    if (value < 1) return `${Math.round(value * 1000)} ms`
    return value < 10 ? `${value.toFixed(2)} s` : `${Math.round(value)} s`
  }
  if (unit === 'cores') return value.toFixed(2)
  return String(Math.round(value * 100) / 100)
}
const windowText = (ms: number): string =>
  ms === 0 ? '' : ms % 60_000 === 0 ? ` over ${ms / 60_000}m` : ` over ${ms / 1000}s`

export class AlertEvaluator {
  private readonly rules: AlertRule[]
  private readonly tracking = new Map<string, Tracking>()
  private readonly read: ReadMeasure
  private readonly notify: (notification: AlertNotification) => void
  private readonly now: () => Date
  private readonly identity: { service: string, instance: string }
  private readonly hintFor: (rule: AlertRule) => string

  constructor (options: {
    rules: AlertRule[]
    read: ReadMeasure
    notify: (notification: AlertNotification) => void
    now?: () => Date
    identity: { service: string, instance: string }
    hintFor?: (rule: AlertRule) => string
  }) {
    this.rules = options.rules
    this.read = options.read
    this.notify = options.notify
    this.now = options.now ?? (() => new Date())
    this.identity = options.identity
    this.hintFor = options.hintFor ?? (rule => rule.hint)
    for (const rule of this.rules) this.tracking.set(rule.name, { state: 'inactive' })
  }

  /** The first condition of the rule that holds now, if any, and whether any could be judged at all. */
  private judge (rule: AlertRule): { breach?: Breach, judged: boolean } {
    let judged = false
    for (const condition of rule.when) {
      const { value, samples } = this.read(condition.measure, condition.windowMs)
      if (value === undefined) continue
      if (condition.min_samples !== undefined && (samples ?? 0) < condition.min_samples) continue
      judged = true
      const threshold = (condition.above ?? condition.below)!
      if (condition.above !== undefined ? value > threshold : value < threshold) {
        const { unit, description, samples: unitOfSamples } = MEASURES[condition.measure]
        const basis = unitOfSamples === undefined || samples === undefined ? '' : ` (${samples} ${unitOfSamples})`
        const comparison = condition.above !== undefined ? '>' : '<'
        const summary = `${description} ${format(unit, value)} ${comparison} ${format(unit, threshold)}` +
          `${windowText(condition.windowMs)}${basis}`
        return { breach: { value, threshold, summary }, judged }
      }
    }
    return { judged }
  }

  /**
   * Takes up the pending and firing rules saved before a restart, as Prometheus restores its
   * alerts' state: one firing then is resolved once it clears, and not announced again while it
   * holds. Each is kept as it was until one of its conditions can be judged (the windows fill
   * again after a restart), for at most its longest window.
   */
  restore (saved: SavedAlertState[]): void {
    const now = this.now().getTime()
    for (const { alert, state, since, lastNotified, breach } of saved) {
      const rule = this.rules.find(rule => rule.name === alert)
      if (rule === undefined) continue
      const heldUntil = now + Math.max(0, ...rule.when.map(condition => condition.windowMs))
      this.tracking.set(alert, { state, since, lastNotified, breach, heldUntil })
    }
  }

  /** One evaluation of every rule. */
  evaluate (): void {
    const now = this.now()
    for (const rule of this.rules) {
      const tracked = this.tracking.get(rule.name)!
      const { breach, judged } = this.judge(rule)
      if (!judged && tracked.heldUntil !== undefined && now.getTime() < tracked.heldUntil) continue
      tracked.heldUntil = undefined
      if (breach === undefined) {
        if (tracked.state === 'firing') this.send(rule, tracked, 'resolved', now, false)
        this.tracking.set(rule.name, { state: 'inactive', lastNotified: tracked.lastNotified })
        continue
      }
      tracked.breach = breach
      if (tracked.state === 'inactive') Object.assign(tracked, { state: 'pending', since: now })
      if (tracked.state === 'pending' && now.getTime() - tracked.since!.getTime() >= rule.forMs) {
        tracked.state = 'firing'
        this.send(rule, tracked, 'firing', now, false)
      } else if (tracked.state === 'firing' && now.getTime() - tracked.lastNotified!.getTime() >= rule.repeatMs) {
        this.send(rule, tracked, 'firing', now, true)
      }
    }
  }

  /** The pending and firing rules, to keep across a restart. */
  saved (): SavedAlertState[] {
    return [...this.tracking].flatMap(([alert, { state, since, lastNotified, breach }]) =>
      state === 'inactive' ? [] : [{ alert, state, since: since!, lastNotified, breach: breach! }])
  }

  private send (rule: AlertRule, tracked: Tracking, status: 'firing' | 'resolved', now: Date, repeat: boolean): void {
    tracked.lastNotified = now
    const breach = tracked.breach!
    this.notify({
      alert: rule.name,
      severity: rule.severity,
      status,
      repeat,
      summary: status === 'firing' ? breach.summary : `resolved; it was: ${breach.summary}`,
      value: breach.value,
      threshold: breach.threshold,
      since: tracked.since!.toISOString(),
      at: now.toISOString(),
      hint: this.hintFor(rule),
      ...this.identity
    })
  }

  /** Every rule's state, firing first. */
  states (): AlertState[] {
    const order = { firing: 0, pending: 1, inactive: 2 }
    return this.rules.map(rule => {
      const tracked = this.tracking.get(rule.name)!
      const active = tracked.state !== 'inactive'
      return {
        alert: rule.name,
        severity: rule.severity,
        state: tracked.state,
        since: active ? tracked.since?.toISOString() : undefined,
        value: active ? tracked.breach?.value : undefined,
        threshold: active ? tracked.breach?.threshold : undefined,
        summary: active ? tracked.breach?.summary : undefined,
        last_notified: tracked.lastNotified?.toISOString()
      }
    }).sort((a, b) => order[a.state] - order[b.state])
  }
}
