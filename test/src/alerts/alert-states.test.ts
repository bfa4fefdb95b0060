// The alerts kept across a restart: read back as saved, replaced whole, each instance its own, on
// both engines.
import t from 'tap'
import type { SavedAlertState } from '../../../src/alerts/alert-evaluator.js'
import { loadAlertStates, saveAlertStates } from '../../../src/alerts/alert-states.js'
import { engines } from '../../helper.js'

const firing: SavedAlertState = {
  alert: 'HighErrorRate',
  state: 'firing',
  since: new Date('2026-01-15T10:00:00Z'),
  lastNotified: new Date('2026-01-15T10:01:00Z'),
  breach: { value: 0.2, threshold: 0.05, summary: '5xx share of requests 20.0% > 5.00% over 5m (50 requests)' }
}
const pending: SavedAlertState = {
  alert: 'UnansweredTopic',
  state: 'pending',
  since: new Date('2026-01-15T10:02:00Z'),
  breach: { value: 12, threshold: 10, summary: 'unanswered turns near "Refunds \\ returns" 12 > 10 over 60m' }
}

for (const engine of engines()) {
  t.test(`${engine.name}: kept states read back, replaced whole, each instance its own`, async t => {
    const db = await engine.open(t)
    t.same(await loadAlertStates(db, 'host-a:3000'), [], 'none kept yet')
    await saveAlertStates(db, 'host-a:3000', [firing, pending])
    await saveAlertStates(db, 'host-b:3000', [pending])
    t.same(await loadAlertStates(db, 'host-a:3000'), [firing, pending], 'read back as saved')

    const resolved = { ...pending, state: 'firing' as const, lastNotified: new Date('2026-01-15T10:05:00Z') }
    await saveAlertStates(db, 'host-a:3000', [resolved])
    t.same(await loadAlertStates(db, 'host-a:3000'), [resolved], 'one that cleared is gone, one that changed is changed')
    t.same(await loadAlertStates(db, 'host-b:3000'), [pending], 'another instance\'s are left as they were')
    await saveAlertStates(db, 'host-a:3000', [])
    t.same(await loadAlertStates(db, 'host-a:3000'), [])
  })
}
