// The rules in force: the defaults (docs/running.md's alert table), tuned by the operator's YAML by name, and a bad
// file stops the start with a message naming what is wrong.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AlertRulesError, DEFAULT_RULES, loadAlertRules, withEvaluationFloor } from '../../../src/alerts/alert-rules.js'
import { tempDir } from '../../helper.js'

t.test('without a file, the fifteen default rules of the table', async t => {
  const rules = await loadAlertRules('')
  t.same(rules.map(rule => `${rule.name}:${rule.severity}`), [
    'HighErrorRate:critical', 'ResponseTimeDegradation:critical', 'DatabaseUnavailable:critical', 'SlowQueries:warning',
    'MemoryExhaustion:critical', 'HighCpu:warning', 'QueueBacklog:warning', 'LowDiskSpace:warning', 'SessionLimit:warning',
    'AnswerRateLow:warning', 'FeedbackDownSpike:warning', 'UnansweredTopic:warning', 'LLMDegraded:warning', 'LLMBudgetNearlySpent:warning', 'EvaluationAccuracyLow:warning'
  ])
  const errorRate = rules.find(rule => rule.name === 'HighErrorRate')!
  t.match(errorRate.when, [{ measure: 'http_5xx_ratio', above: 0.05, windowMs: 300_000, min_samples: 20 }])
  t.equal(rules.find(rule => rule.name === 'DatabaseUnavailable')!.when[0]!.above, 30, 'failing for 30 s')
  t.equal(rules.find(rule => rule.name === 'QueueBacklog')!.when.length, 2, 'backlog for a minute, or more than a handful shed')
  for (const rule of rules) t.ok(rule.hint.length > 20, `${rule.name} says where to look`)
})

t.test('the YAML file tunes, disables and adds rules by name', async t => {
  const dir = await tempDir(t)
  const file = join(dir, 'alerts.yml')
  await writeFile(file, `
rules:
  HighCpu:
    when: [{ measure: cpu_cores_used, above: 0.95, window: 10m }]
    for: 2m
  LowDiskSpace:
    enabled: false
  ManyShed:
    severity: critical
    when:
      - measure: shed_requests
        above: 100
        window: 1m
    repeat: 30m
    hint: Scale out
`)
  const rules = await loadAlertRules(file)
  const cpu = rules.find(rule => rule.name === 'HighCpu')!
  t.match(cpu, { severity: 'warning', forMs: 120_000, when: [{ above: 0.95, windowMs: 600_000 }] }, 'unchanged fields keep their defaults')
  t.equal(cpu.hint, DEFAULT_RULES.HighCpu!.hint)
  t.notOk(rules.some(rule => rule.name === 'LowDiskSpace'), 'disabled')
  t.match(rules.find(rule => rule.name === 'ManyShed'), { severity: 'critical', repeatMs: 1_800_000, hint: 'Scale out' })
  t.equal(rules.length, Object.keys(DEFAULT_RULES).length, 'the defaults, one disabled and one added')
})

t.test('a bad file is refused with the field and the reason', async t => {
  const dir = await tempDir(t)
  const cases: Array<[string, string, RegExp]> = [
    ['unknown measure', 'rules:\n  HighCpu:\n    when: [{ measure: cpu_percent, above: 1 }]\n', /rules\/HighCpu\/when\/0\/measure/],
    ['bad duration', 'rules:\n  HighCpu:\n    for: 5 minutes\n', /rules\/HighCpu\/for/],
    ['unknown field', 'rules:\n  HighCpu:\n    threshold: 3\n', /HighCpu/],
    ['new rule without severity', 'rules:\n  Mine:\n    when: [{ measure: shed_requests, above: 1 }]\n', /rule Mine needs severity and when/],
    ['both above and below', 'rules:\n  HighCpu:\n    when: [{ measure: cpu_cores_used, above: 1, below: 2 }]\n', /exactly one of above or below/],
    ['not YAML', 'rules: [unclosed', /not valid YAML/]
  ]
  for (const [name, text, message] of cases) {
    const file = join(dir, `${name.replaceAll(' ', '-')}.yml`)
    await writeFile(file, text)
    const error = await loadAlertRules(file).then(() => undefined, (failure: unknown) => failure)
    t.type(error, AlertRulesError, name)
    t.match((error as Error).message, message)
  }
  await t.rejects(loadAlertRules(join(dir, 'missing.yml')), { message: /cannot read .*missing\.yml/ })
})

t.test('EvaluationAccuracyLow: below KB_EVALUATION_MIN_ACCURACY, or 5 points down on the last run of the same questions', async t => {
  const byDefault = (await loadAlertRules('')).find(rule => rule.name === 'EvaluationAccuracyLow')!
  t.match(byDefault.when, [{ measure: 'kb_evaluation_accuracy', below: 0.8 }, { measure: 'kb_evaluation_accuracy_drop', above: 0.05 }])
  const floor = (await loadAlertRules('', withEvaluationFloor(0.95))).find(rule => rule.name === 'EvaluationAccuracyLow')!
  t.match(floor.when, [{ measure: 'kb_evaluation_accuracy', below: 0.95 }, { measure: 'kb_evaluation_accuracy_drop', above: 0.05 }])
  t.equal(DEFAULT_RULES.EvaluationAccuracyLow!.when[0]!.below, 0.8, 'the defaults themselves are left alone')
})
