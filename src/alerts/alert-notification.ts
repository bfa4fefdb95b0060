// What a notifier is given when an alert fires, repeats or resolves: everything a person on call
// needs to act without opening the app first (what, how bad, since when, where to look).
import Type, { type Static } from 'typebox'

export const SEVERITIES = ['critical', 'warning', 'info'] as const

export const AlertNotificationSchema = Type.Object({
  alert: Type.String({ description: 'Rule name, e.g. HighErrorRate' }),
  severity: Type.Enum(SEVERITIES),
  status: Type.Enum(['firing', 'resolved']),
  /** True when this is a reminder for an alert that is still firing. */
  repeat: Type.Boolean(),
  /** One sentence: what was measured against what, e.g. "5xx share of requests 7.5% > 5% over 5m". */
  summary: Type.String(),
  value: Type.Number({
    description: 'The measured value that crossed the threshold (when resolved: the last one that did)'
  }),
  threshold: Type.Number(),
  /** ISO time the condition started to hold (pending began). */
  since: Type.String({ format: 'date-time' }),
  /** ISO time of this notification. */
  at: Type.String({ format: 'date-time' }),
  /** Where to look: a LogQL query, a trace id, an `npm run analyze` command or a dashboard link. */
  hint: Type.String(),
  service: Type.String(),
  instance: Type.String()
})
export type AlertNotification = Static<typeof AlertNotificationSchema>
