// The life of an alert, driven by hand: pending for its "for", firing once, repeating at its
// interval, resolved once; too few samples never fire; the notification says what and where.
import t from 'tap'
import { AlertEvaluator } from '../../../src/alerts/alert-evaluator.js'
import type { AlertNotification } from '../../../src/alerts/alert-notification.js'
import { resolveRules } from '../../../src/alerts/alert-rules.js'
import { manualClock } from '../../helper.js'

function setUp (rules: unknown) {
  const clock = manualClock()
  const readings = new Map<string, { value: number | undefined, samples?: number }>()
  const sent: AlertNotification[] = []
  const evaluator = new AlertEvaluator({
    rules: resolveRules(rules),
    read: measure => readings.get(measure) ?? { value: undefined },
    notify: notification => sent.push(notification),
    now: clock.now,
    identity: { service: 'parley', instance: 'test:3000' }
  })
  return { clock, readings, sent, evaluator, state: (name: string) => evaluator.states().find(state => state.alert === name)! }
}

t.test('pending, firing once, repeating, resolved once', async t => {
  const { clock, readings, sent, evaluator, state } = setUp({ rules: { HighErrorRate: { for: '1m', repeat: '10m' } } })
  readings.set('http_5xx_ratio', { value: 0.2, samples: 50 })
  evaluator.evaluate()
  t.equal(state('HighErrorRate').state, 'pending')
  t.equal(sent.length, 0, 'nothing sent while pending')
  clock.advance(30_000); evaluator.evaluate()
  t.equal(sent.length, 0)
  clock.advance(30_000); evaluator.evaluate()
  t.equal(state('HighErrorRate').state, 'firing')
  t.equal(sent.length, 1)
  t.match(sent[0], {
    alert: 'HighErrorRate',
    severity: 'critical',
    status: 'firing',
    repeat: false,
    value: 0.2,
    threshold: 0.05,
    since: '2026-01-15T10:00:00.000Z',
    at: '2026-01-15T10:01:00.000Z',
    summary: '5xx share of requests 20.0% > 5.00% over 5m (50 requests)',
    hint: /logs\/error\.log/,
    service: 'parley',
    instance: 'test:3000'
  })
  clock.advance(5 * 60_000); evaluator.evaluate()
  t.equal(sent.length, 1, 'no repeat before its interval')
  clock.advance(5 * 60_000); evaluator.evaluate()
  t.match(sent[1], { status: 'firing', repeat: true }, 'a reminder after 10 minutes')
  t.equal(evaluator.states()[0]!.alert, 'HighErrorRate', 'firing alerts come first')

  readings.set('http_5xx_ratio', { value: 0.01, samples: 50 })
  clock.advance(15_000); evaluator.evaluate()
  t.match(sent[2], { status: 'resolved', alert: 'HighErrorRate', since: '2026-01-15T10:00:00.000Z', summary: /^resolved; it was: 5xx share/ })
  t.equal(state('HighErrorRate').state, 'inactive')
  clock.advance(15_000); evaluator.evaluate()
  t.equal(sent.length, 3, 'resolved is sent once')
})

t.test('a condition that stops holding while pending sends nothing', async t => {
  const { clock, readings, sent, evaluator, state } = setUp({ rules: { SessionLimit: { for: '1m' } } })
  readings.set('active_sessions_ratio', { value: 0.9 })
  evaluator.evaluate()
  readings.set('active_sessions_ratio', { value: 0.5 })
  clock.advance(60_000); evaluator.evaluate()
  t.equal(state('SessionLimit').state, 'inactive')
  t.equal(sent.length, 0)
})

t.test('too few samples never fire, and "below" rules fire below', async t => {
  const { readings, sent, evaluator } = setUp({ rules: {} })
  readings.set('http_5xx_ratio', { value: 1, samples: 19 })
  readings.set('log_disk_free_ratio', { value: 0.05 })
  evaluator.evaluate()
  t.same(sent.map(notification => notification.alert), ['LowDiskSpace'], '19 failed requests of 19 are under the minimum of 20')
  t.equal(sent[0]!.summary, 'free space on the log volume 5.00% < 10.0%')
})

t.test('any one condition fires a rule, and the notification names the one that did', async t => {
  const { readings, sent, evaluator } = setUp({ rules: {} })
  readings.set('db_check_failing_seconds', { value: 0 })
  readings.set('db_connection_errors', { value: 3 })
  evaluator.evaluate()
  t.match(sent, [{ alert: 'DatabaseUnavailable', value: 3, threshold: 0, summary: /statements failed for want of a database connection 3 > 0 over 5m/ }])
})
