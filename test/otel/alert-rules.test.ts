// Prometheus's alert rules for Parley (otel/stack/alerts.yml), checked without a running Prometheus:
// the real promtool checks them and runs their unit tests (otel/stack/alerts.test.yml), every rule has
// a test that makes it fire, and the local stack wires rules, Prometheus, Alertmanager and Grafana
// together. That every metric a rule reads is one a live Parley serves: metric-names.test.ts.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { parser as logqlParser } from '@grafana/lezer-logql'
import { parse } from 'yaml'
import { projectRoot } from '../../src/project.js'
import { selectors } from '../promql.js'

interface Rule { alert: string, expr: string, for?: string, labels: Record<string, string>, annotations: Record<string, string> }
interface RuleTests {
  rule_files: string[]
  tests: Array<{
    name: string
    alert_rule_test?: Array<{ alertname: string, exp_alerts?: Array<{ exp_labels?: Record<string, string> }> }>
  }>
}

const read = (path: string): unknown => parse(readFileSync(join(projectRoot, path), 'utf8'))
const rules = (read('otel/stack/alerts.yml') as { groups: Array<{ name: string, rules: Rule[] }> }).groups.flatMap(group => group.rules)
const ruleTests = read('otel/stack/alerts.test.yml') as RuleTests

function run (command: string, args: string[]) {
  return spawnSync(command, args, { cwd: projectRoot, encoding: 'utf8' })
}
const installed = (command: string): boolean => run(command, ['--version']).error === undefined
// .ci/run installs both from Debian (prometheus, prometheus-alertmanager); elsewhere they may be missing.
const noPromtool = installed('promtool') ? false : 'promtool is not installed (Debian package prometheus; .ci/run installs it): the rules are not checked by it'
const noAmtool = installed('amtool') ? false : 'amtool is not installed (Debian package prometheus-alertmanager; .ci/run installs it): otel/stack/alertmanager.yml is not checked by it'

t.test('the PromQL reader finds metrics, not functions, labels, keywords or durations, and refuses what does not parse', async t => {
  t.same(selectors('sum by (job, le) (rate(a_bucket{job="parley", status=~"5.."}[5m] offset 1m)) / on(instance) group_left b > 0.5 and bool c{le="+Inf"}'), [
    { name: 'a_bucket', matchers: '{job="parley", status=~"5.."}' },
    { name: 'b', matchers: '' },
    { name: 'c', matchers: '{le="+Inf"}' }
  ])
  t.same(selectors('histogram_quantile(0.95, sum(rate(x[1h:5m]))) > 1e3 unless absent(y{job="by"})').map(s => s.name), ['x', 'y'])
  t.throws(() => selectors('sum(rate(x[5m])'), /not valid PromQL/)
})

t.test('promtool checks the rules and passes their unit tests', { skip: noPromtool }, async t => {
  const check = run('promtool', ['check', 'rules', 'otel/stack/alerts.yml'])
  t.equal(check.status, 0, `promtool check rules otel/stack/alerts.yml:\n${check.stdout}${check.stderr}`)
  const tests = run('promtool', ['test', 'rules', 'otel/stack/alerts.test.yml'])
  t.equal(tests.status, 0, `promtool test rules otel/stack/alerts.test.yml:\n${tests.stdout}${tests.stderr}`)
})

t.test('every rule has a unit test that makes it fire, and every alert one where it stays quiet', async t => {
  t.same(ruleTests.rule_files, ['alerts.yml'], 'the tests load otel/stack/alerts.yml')
  const cases = ruleTests.tests.flatMap(test => test.alert_rule_test ?? [])
  for (const rule of rules) {
    // Two rules may share an alert name (DatabaseUnavailable, QueueBacklog): their static labels tell them apart.
    const fires = cases.some(({ alertname, exp_alerts: expected }) => alertname === rule.alert &&
      (expected ?? []).some(({ exp_labels: labels = {} }) => Object.entries(rule.labels).every(([key, value]) => labels[key] === value)))
    t.ok(fires, `${rule.alert} ${JSON.stringify(rule.labels)} fires in a test`)
  }
  for (const alert of new Set(rules.map(rule => rule.alert))) {
    t.ok(cases.some(({ alertname, exp_alerts: expected }) => alertname === alert && (expected ?? []).length === 0), `${alert} stays quiet in a test`)
  }
})

t.test('every rule reads job="parley" only, has a severity, and says where to look', async t => {
  t.same(rules.map(rule => rule.alert).filter((name, i, all) => all.indexOf(name) === i).sort(),
    ['AnswerRateLow', 'DatabaseUnavailable', 'FeedbackDownSpike', 'HighCpu', 'HighErrorRate', 'LowDiskSpace', 'MemoryExhaustion', 'ParleyDown', 'QueueBacklog', 'ResponseTimeDegradation', 'SessionLimit', 'SlowQueries', 'UnansweredTopic', 'LLMDegraded', 'LLMBudgetNearlySpent', 'EvaluationAccuracyLow'].sort())
  for (const rule of rules) {
    // The collector re-exposes every metric as job="otel-collector": unfiltered, each would count twice.
    for (const { name, matchers } of selectors(rule.expr)) t.match(matchers, /\bjob="parley"/, `${rule.alert}: ${name} selects job="parley"`)
    t.ok(['critical', 'warning'].includes(rule.labels.severity ?? ''), `${rule.alert}: severity ${rule.labels.severity}`)
    t.ok((rule.annotations.summary ?? '') !== '', `${rule.alert}: a summary`)
    const description = rule.annotations.description ?? ''
    t.match(description, /Grafana|Jaeger|\{service_name="parley"\}/, `${rule.alert}: the description says where to look`)
    // The LogQL in a description is meant to be pasted into Grafana's Explore: it must parse.
    for (const [, query] of description.matchAll(/`(\{[^`]+)`/g)) {
      const errors: number[] = []
      logqlParser.parse(query!).iterate({ enter: node => { if (node.type.isError) errors.push(node.from) } })
      t.same(errors, [], `${rule.alert}: valid LogQL ${query}`)
    }
  }
})

t.test('the stack wires the rules into Prometheus, Prometheus to Alertmanager, and both into Grafana', async t => {
  const compose = read('docker-compose.yml') as { services: Record<string, { image?: string, volumes?: string[], ports?: string[] }> }
  const prometheus = read('otel/stack/prometheus.yml') as { rule_files?: string[], alerting?: { alertmanagers: Array<{ static_configs: Array<{ targets: string[] }> }> } }
  const mounts = (service: string) => new Map((compose.services[service]?.volumes ?? []).map(volume => volume.split(':')).map(([from, to]) => [to!, from!]))

  // Prometheus resolves rule_files against its config file's folder, promtool against otel/: both must name alerts.yml.
  const prometheusMounts = mounts('prometheus')
  const configDir = posix.dirname([...prometheusMounts].find(([, from]) => from === './otel/stack/prometheus.yml')?.[0] ?? '')
  t.same(prometheus.rule_files, ['alerts.yml'])
  for (const file of prometheus.rule_files ?? []) t.equal(prometheusMounts.get(posix.join(configDir, file)), `./otel/stack/${file}`, `${file} is mounted beside prometheus.yml`)

  const targets = prometheus.alerting?.alertmanagers.flatMap(manager => manager.static_configs.flatMap(config => config.targets)) ?? []
  t.same(targets, ['alertmanager:9093'], 'Prometheus sends its alerts to Alertmanager')
  t.match(compose.services.alertmanager?.image, /^prom\/alertmanager:v\d+\.\d+\.\d+$/, 'a pinned Alertmanager image')
  t.equal(mounts('alertmanager').get('/etc/alertmanager/alertmanager.yml'), './otel/stack/alertmanager.yml')

  const datasources = (read('otel/stack/grafana/provisioning/datasources/datasources.yaml') as { datasources: Array<{ type: string, url: string, jsonData?: { implementation?: string } }> }).datasources
  t.match(datasources.find(source => source.type === 'alertmanager'), { url: 'http://alertmanager:9093', jsonData: { implementation: 'prometheus' } }, 'Grafana shows Alertmanager')
  const dashboard = JSON.parse(readFileSync(join(projectRoot, 'otel/stack/grafana/dashboards/chatbot-overview.json'), 'utf8')) as { panels: Array<{ title: string, targets?: Array<{ expr?: string }> }> }
  t.ok(dashboard.panels.some(panel => panel.targets?.some(target => /^ALERTS\{[^}]*alertstate="firing"/.test(target.expr ?? ''))), 'the dashboard lists the firing alerts')
})

t.test('Alertmanager routes critical to Slack and e-mail, warning to Slack, and says when alerts resolve', async t => {
  const config = read('otel/stack/alertmanager.yml') as { route: { group_by?: string[], repeat_interval?: string }, receivers: Array<{ name: string, slack_configs?: Array<{ send_resolved?: boolean, api_url_file?: string }>, email_configs?: Array<{ send_resolved?: boolean }> }> }
  t.same(config.route.group_by, ['alertname'])
  t.ok(config.route.repeat_interval, 'a repeat interval')
  for (const receiver of config.receivers) {
    for (const slack of receiver.slack_configs ?? []) {
      t.equal(slack.send_resolved, true, `${receiver.name}: Slack says when an alert resolves`)
      t.ok(slack.api_url_file, `${receiver.name}: the webhook URL comes from a file, never the config`)
    }
    for (const email of receiver.email_configs ?? []) t.equal(email.send_resolved, true, `${receiver.name}: e-mail says when an alert resolves`)
  }
  if (noAmtool !== false) {
    t.comment(noAmtool)
    return
  }
  const check = run('amtool', ['check-config', 'otel/stack/alertmanager.yml'])
  t.equal(check.status, 0, `amtool check-config otel/stack/alertmanager.yml:\n${check.stdout}${check.stderr}`)
  const receiverOf = (...labels: string[]) => run('amtool', ['config', 'routes', 'test', '--config.file=otel/stack/alertmanager.yml', ...labels]).stdout.trim()
  const receivers = new Map(config.receivers.map(receiver => [receiver.name, receiver]))
  const critical = receivers.get(receiverOf('alertname=HighErrorRate', 'severity=critical'))
  t.ok(critical?.slack_configs?.length && critical.email_configs?.length, `critical goes to Slack and e-mail (${critical?.name})`)
  const warning = receivers.get(receiverOf('alertname=HighCpu', 'severity=warning'))
  t.ok(warning?.slack_configs?.length && warning.email_configs === undefined, `warning goes to Slack only (${warning?.name})`)
})
