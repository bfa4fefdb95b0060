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
  /** An evaluator of the rules: a second one is the same instance after a restart. */
  const start = () => new AlertEvaluator({
    rules: resolveRules(rules),
    read: measure => readings.get(measure) ?? { value: undefined },
    notify: notification => sent.push(notification),
    now: clock.now,
    identity: { service: 'parley', instance: 'test:3000' }
  })
  const evaluator = start()
  return { clock, readings, sent, evaluator, start, state: (name: string) => evaluator.states().find(state => state.alert === name)! }
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

t.test('a restart keeps a firing alert: not announced again while it holds, resolved once it clears', async t => {
  const { clock, readings, sent, evaluator, start } = setUp({ rules: { HighErrorRate: { for: '1m', repeat: '10m' } } })
  readings.set('http_5xx_ratio', { value: 0.2, samples: 50 })
  evaluator.evaluate()
  clock.advance(60_000); evaluator.evaluate()
  t.equal(sent.length, 1, 'fired at 10:01')
  const saved = evaluator.saved()
  t.match(saved, [{
    alert: 'HighErrorRate',
    state: 'firing',
    since: new Date('2026-01-15T10:00:00Z'),
    lastNotified: new Date('2026-01-15T10:01:00Z'),
    breach: { value: 0.2, threshold: 0.05, summary: '5xx share of requests 20.0% > 5.00% over 5m (50 requests)' }
  }], 'what is kept')

  clock.advance(2 * 60_000)
  readings.clear() // the new process's windows are empty
  const restarted = start()
  restarted.restore(saved)
  restarted.evaluate()
  t.match(restarted.states()[0], { alert: 'HighErrorRate', state: 'firing', since: '2026-01-15T10:00:00.000Z' },
    'firing as before, while nothing can be judged')
  readings.set('http_5xx_ratio', { value: 0.3, samples: 20 })
  clock.advance(60_000); restarted.evaluate()
  t.equal(sent.length, 1, 'still holding: not announced again')
  clock.advance(6 * 60_000); restarted.evaluate()
  t.equal(sent.length, 1, 'nor reminded before 10 minutes since the last notification')
  clock.advance(60_000); restarted.evaluate()
  t.match(sent[1], { status: 'firing', repeat: true, since: '2026-01-15T10:00:00.000Z' }, 'reminded 10 minutes after the last notification')
  readings.set('http_5xx_ratio', { value: 0, samples: 20 })
  clock.advance(15_000); restarted.evaluate()
  t.match(sent[2], { status: 'resolved', since: '2026-01-15T10:00:00.000Z', summary: /^resolved; it was: 5xx share of requests 30\.0%/ })
  t.same(restarted.saved(), [], 'and nothing is left to keep')
})

t.test('a kept alert no condition can judge is held for its longest window, then resolved', async t => {
  const { clock, readings, sent, evaluator, start } = setUp({ rules: { HighErrorRate: { for: '0s' } } })
  readings.set('http_5xx_ratio', { value: 0.2, samples: 50 })
  evaluator.evaluate()
  const restarted = start()
  restarted.restore(evaluator.saved())
  readings.clear()
  clock.advance(4 * 60_000); restarted.evaluate()
  t.equal(sent.length, 1, 'held for 4 minutes of the 5-minute window')
  clock.advance(60_000); restarted.evaluate()
  t.match(sent[1], { status: 'resolved', alert: 'HighErrorRate' }, 'then resolved, as an instance that ran on would')
})

t.test('a kept pending alert fires once its "for" has passed since it began; unknown rules are left out', async t => {
  const { clock, readings, sent, evaluator, start } = setUp({ rules: { HighErrorRate: { for: '2m' } } })
  readings.set('http_5xx_ratio', { value: 0.2, samples: 50 })
  evaluator.evaluate()
  clock.advance(90_000)
  const restarted = start()
  restarted.restore([...evaluator.saved(), { ...evaluator.saved()[0]!, alert: 'NoSuchRule' }])
  restarted.evaluate()
  t.equal(sent.length, 0, 'pending for 1.5 of its 2 minutes')
  clock.advance(30_000); restarted.evaluate()
  t.match(sent, [{ alert: 'HighErrorRate', status: 'firing', since: '2026-01-15T10:00:00.000Z' }])
  t.same(restarted.saved().map(state => state.alert), ['HighErrorRate'])
})
