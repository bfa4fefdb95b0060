// What the README and docs/ say exists must exist, and what exists must be documented: docs/ is
// also the bot's own knowledge base, so a stale sentence there is a wrong answer to users.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { DEFAULT_RULES, type Condition } from '../src/alerts/alert-rules.js'
import { COMMANDS } from '../src/commands/command-parser.js'
import { ConfigSchema } from '../src/config.js'
import { parseQuestionLines } from '../src/evaluation/question-set.js'
import { projectRoot } from '../src/project.js'
import { buildTestApp } from './helper.js'

const read = async (path: string): Promise<string> => await readFile(join(projectRoot, path), 'utf8')

t.test('every route is in the README\'s API table, and every route there exists', async t => {
  const app = await buildTestApp(t, { KB_SEED_DIR: '' })
  await app.ready()
  const spec = app.swagger() as { paths: Record<string, Record<string, unknown>> }
  const served = new Set(Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.keys(methods).filter(method => method !== 'head').map(method => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)))
  const readme = await read('README.md')
  const apiSection = readme.slice(readme.indexOf('## API'), readme.indexOf('\n## ', readme.indexOf('## API') + 1))
  const documented = new Set<string>()
  for (const [, methods, path] of apiSection.matchAll(/^\| `([A-Z|\\]+) ([^`?]+)[^`]*` \|/gm)) {
    for (const method of methods!.split('\\|')) documented.add(`${method} ${path}`)
  }
  t.ok(served.size > 15, `${served.size} routes served`)
  t.same([...served].filter(route => !documented.has(route)).sort(), [], 'no route is missing from the README')
  t.same([...documented].filter(route => !served.has(route)).sort(), [], 'no route in the README is missing from the app')
})

t.test('every configuration variable is in docs/configuration.md, and nothing else is; the README names only real ones', async t => {
  const variables = Object.keys(ConfigSchema.properties)
  const readme = await read('README.md')
  const configuration = await read('docs/configuration.md')
  // The names in the first cell of each table row, LOG_RETENTION_{DEBUG,INFO}_DAYS spelt out.
  const tableNames = (text: string): Set<string> => new Set([...text.matchAll(/^\| (`[^|]*`) \|/gm)]
    .flatMap(match => [...match[1]!.matchAll(/`([A-Z][A-Z0-9_]*(?:\{[A-Z0-9_,]+\}[A-Z0-9_]*)?)`/g)].map(name => name[1]!))
    .flatMap(name => {
      const braces = /^(.*)\{(.*)\}(.*)$/.exec(name)
      return braces === null ? [name] : braces[2]!.split(',').map(part => `${braces[1]}${part}${braces[3]}`)
    }))
  const unknown = (named: Set<string>) => [...named].filter(name => !variables.includes(name) && !/^(OTEL_|PARLEY_|BENCH_|TEST_)/.test(name))
  const documented = tableNames(configuration)
  t.same(variables.filter(name => !documented.has(name)), [], 'docs/configuration.md documents every variable')
  t.same(unknown(documented), [], 'docs/configuration.md documents no variable that does not exist')
  const essentials = tableNames(readme)
  t.ok(essentials.size >= 8, `the README's table names the settings most set (${essentials.size})`)
  t.same(unknown(essentials), [], 'and only variables that exist (.env.example lists every one: test/env-example.test.ts)')
})

t.test('every command is in docs/commands.md, and every command there exists', async t => {
  const text = await read('docs/commands.md')
  const names = COMMANDS.map(command => command.name)
  t.same(names.filter(name => !text.includes(`/${name}`)), [], 'each command is described')
  const headings = [...text.matchAll(/^## .*?\/([a-z]+)/gm)].map(match => match[1]!)
  t.same(headings.filter(name => !(names as string[]).includes(name)), [], 'no heading names a command that does not exist')
})

t.test('no document speaks of features as still to come', async t => {
  for (const file of ['README.md', 'DEVELOPING.md', 'bench/README.md', 'plugins/README.md', 'otel/README.md', 'docs/api-keys.md', 'docs/tracing-and-logs.md', 'docs/running.md', 'docs/configuration.md']) {
    t.notMatch(await read(file), /on the roadmap|not in this version|no route of its own yet|no alerting yet|issue \d+|the telemetry issue/i, file)
  }
})

t.test('plugins/README.md lists every plugin in the order src/app.ts registers it, with its dependencies', async t => {
  const app = await read('src/app.ts')
  const files = new Map([...app.matchAll(/^import (\w+) from '\.\.\/plugins\/([a-z-]+)\.js'$/gm)].map(([, name, file]) => [name!, file!]))
  const registered = [...app.matchAll(/await app\.register\((\w+)/g)].map(([, name]) => files.get(name!)).filter(file => file !== undefined)
  const declared: Array<{ plugin: string, dependencies: string[] }> = []
  for (const file of registered) {
    const plugin = (await import(`../plugins/${file}.js`) as { default: Record<symbol, { dependencies?: string[] } | undefined> }).default
    declared.push({ plugin: `${file}.ts`, dependencies: [...(plugin[Symbol.for('plugin-meta')]?.dependencies ?? [])].sort() })
  }
  const table = (await read('plugins/README.md')).matchAll(/^\| `([a-z-]+\.ts)` \|[^|]*\|([^|]*)\|/gm)
  const documented = [...table].map(([, plugin, dependencies]) => ({ plugin: plugin!, dependencies: dependencies!.split(',').map(name => name.trim()).filter(name => name !== '').sort() }))
  t.ok(declared.length > 20, `${declared.length} plugins registered`)
  t.same(documented, declared)
})

t.test('the one alert table (docs/running.md) is the rules in src/alerts/alert-rules.ts and otel/stack/alerts.yml', async t => {
  const text = await read('docs/running.md')
  const start = text.indexOf('## Which alerts are there, and when does each fire?')
  t.ok(start >= 0, 'docs/running.md has the section the other documents link to')
  const section = text.slice(start, text.indexOf('\n## ', start + 1))
  const rows = section.split('\n').filter(line => line.startsWith('| ') && !line.startsWith('| Alert |') && !line.startsWith('| ---'))
    .map(line => line.slice(2, -2).split(' | '))
  t.ok(rows.every(cells => cells.length === 5), 'each row has its five cells (no cell holds " | ")')
  const table = new Map(rows.map(([alert, severity, condition, , forTime]) => [alert!, { severity, condition, forTime }]))

  // The default conditions as ALERTS_CONFIG writes them; any one holding fires the rule.
  const written = (condition: Condition): string => [
    `\`${condition.measure}\` ${condition.above !== undefined ? `above ${condition.above}` : `below ${condition.below}`}`,
    condition.window === undefined ? '' : ` over ${condition.window}`,
    condition.min_samples === undefined ? '' : `, min_samples ${condition.min_samples}`
  ].join('')
  // Prometheus's rules by name (a rule of two conditions is two rules of one name), each with its for:.
  const stack = parse(await read('otel/stack/alerts.yml')) as { groups: Array<{ rules: Array<{ alert?: string, for?: string, labels?: { severity?: string } }> }> }
  const prometheus = new Map<string, { severities: Set<string>, forTimes: string[] }>()
  for (const rule of stack.groups.flatMap(group => group.rules)) {
    if (rule.alert === undefined) continue
    const found = prometheus.get(rule.alert) ?? { severities: new Set(), forTimes: [] }
    found.severities.add(rule.labels?.severity ?? 'none')
    const forTime = rule.for === undefined || /^0[a-z]*$/.test(rule.for) ? '0' : rule.for
    if (!found.forTimes.includes(forTime)) found.forTimes.push(forTime)
    prometheus.set(rule.alert, found)
  }

  const expected = [...new Set([...Object.keys(DEFAULT_RULES), ...prometheus.keys()])]
  t.same([...table.keys()], expected, 'one row for each rule, the app\'s in their order, then Prometheus\'s own')
  for (const alert of expected) {
    const rule = DEFAULT_RULES[alert]
    const inPrometheus = prometheus.get(alert)
    t.same(table.get(alert), {
      severity: rule?.severity ?? [...inPrometheus!.severities].join(', '),
      condition: rule === undefined ? 'none: Prometheus only' : rule.when.map(written).join(', or '),
      forTime: inPrometheus === undefined ? 'none: not in Prometheus' : inPrometheus.forTimes.join('; ')
    }, alert)
    if (rule !== undefined && inPrometheus !== undefined) t.same([...inPrometheus.severities], [rule.severity], `${alert}: Prometheus gives it the app's severity`)
  }
})

t.test('docs/manual-questions.jsonl is a question set for the bundled guides: every expected id is a guide', async t => {
  const questions = parseQuestionLines(await read('docs/manual-questions.jsonl'))
  const guides = new Set((await readdir(join(projectRoot, 'docs'))).filter(name => name.endsWith('.md')).map(name => name.slice(0, -3)))
  t.ok(questions.length >= 50, 'enough questions to read a figure from')
  t.ok(questions.some(question => question.expected.length === 0), 'out-of-scope messages too')
  t.same(questions.flatMap(question => question.expected).filter(id => !guides.has(id)), [], 'no question expects a document that is not a guide')
})
