// The pending and firing alerts of each instance (table alert_states), kept across a restart so
// that an alert firing before it is resolved after it, and not announced twice
// (AlertEvaluator.restore). Each instance, by its name in notifications (host:port), keeps its own:
// each judges and notifies on its own.
import type { Queryable } from '../db/database.js'
import type { SavedAlertState } from './alert-evaluator.js'

interface Row {
  alert: string
  state: SavedAlertState['state']
  since: Date
  last_notified: Date | null
  value: number
  threshold: number
  summary: string
}

/** Replaces the instance's kept states with these. */
export async function saveAlertStates (db: Queryable, instance: string, states: SavedAlertState[]): Promise<void> {
  const rows = states.map(({ alert, state, since, lastNotified, breach }) => ({
    alert,
    state,
    since: since.toISOString(),
    last_notified: lastNotified?.toISOString() ?? null,
    ...breach
  }))
  await db.query(
    `WITH kept AS (
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS s (alert text, state text, since timestamptz,
         last_notified timestamptz, value float8, threshold float8, summary text)),
     gone AS (DELETE FROM alert_states WHERE instance = $1 AND alert NOT IN (SELECT alert FROM kept))
     INSERT INTO alert_states (instance, alert, state, since, last_notified, value, threshold, summary)
     SELECT $1, * FROM kept
     ON CONFLICT (instance, alert) DO UPDATE SET state = excluded.state, since = excluded.since,
       last_notified = excluded.last_notified, value = excluded.value, threshold = excluded.threshold,
       summary = excluded.summary`,
    [instance, JSON.stringify(rows)])
}

/** The instance's kept states. */
export async function loadAlertStates (db: Queryable, instance: string): Promise<SavedAlertState[]> {
  const { rows } = await db.query<Row>(
    `SELECT alert, state, since, last_notified, value, threshold, summary FROM alert_states
     WHERE instance = $1 ORDER BY alert`, [instance])
  return rows.map(row => ({
    alert: row.alert,
    state: row.state,
    since: new Date(row.since),
    lastNotified: row.last_notified === null ? undefined : new Date(row.last_notified),
    breach: { value: row.value, threshold: row.threshold, summary: row.summary }
  }))
}
