// `npm run analyze` over logs the real server wrote under a scripted workload: each figure is
// checked against what the workload did. Then the same logs damaged in every way the CLI must
// survive: a line that is not JSON, a truncated gzip, a file that cannot be read, no folder.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { gzipSync } from 'node:zlib'
import pg from 'pg'
import { main, parsePeriod } from '../../../src/cli/analyze.js'
import type { ErrorReport } from '../../../src/analysis/error-patterns.js'
import type { UsageReport } from '../../../src/analysis/usage-report.js'
import type { PerfReport } from '../../../src/analysis/perf-report.js'
import type { WeeklyReport } from '../../../src/analysis/weekly-report.js'
import type { LogHealth } from '../../../src/analysis/health-report.js'
import { createServerDatabase, tempDir, waitFor } from '../../helper.js'
import { startServer } from '../../server-process.js'

async function run (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', chunk => { out += String(chunk) })
  stderr.on('data', chunk => { err += String(chunk) })
  const code = await main(args, env, { stdout, stderr })
  return { code, stdout: out, stderr: err }
}

const serverUrl = process.env.TEST_DATABASE_URL ?? ''
const logDir = await tempDir(t, 'parley-analyze-')
let errorsCaused = 0

t.before(async () => {
  // On server PostgreSQL the test can break a table under the running server, for real 500s.
  const database = serverUrl === '' ? undefined : await createServerDatabase(serverUrl)
  if (database !== undefined) t.teardown(() => database.drop())
  const server = await startServer(t, { LOG_DIR: logDir, LOG_LEVEL: 'info', ...(database === undefined ? {} : { DATABASE_URL: database.url }) })
  const chat = async (message: string, session?: string, user?: string): Promise<{ status: number, session_id: string }> => {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message, session_id: session, user_id: user }) })
    return { status: response.status, ...(await response.json() as { session_id: string }) }
  }
  const a = (await chat('how do I view traces?', undefined, 'alice')).session_id
  await chat('/feedback up', a, 'alice')
  await chat('what is the capital of Mongolia?', a, 'alice')
  await chat('/feedback down no idea', a, 'alice')
  // One slow turn: every message stored takes 300 ms while it lasts (server PostgreSQL only).
  const client = database === undefined ? undefined : new pg.Client({ connectionString: database.url })
  await client?.connect()
  await client?.query(`CREATE FUNCTION slow_down() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER slow_messages BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.role = 'bot') EXECUTE FUNCTION slow_down()`)
  await chat('how do I add an admin API key?', a, 'alice')
  await client?.query('DROP TRIGGER slow_messages ON messages')
  const b = (await chat('What is the capital of Mongolia', undefined, 'bob')).session_id
  await chat('capital of mongolia?', b, 'bob')
  await chat('who won the 1998 football world cup?', b, 'bob')
  await chat('/help', b, 'bob')
  await chat('/nosuchcommand', b, 'bob')
  await chat('/history 2') // a third session, anonymous
  if (client !== undefined) {
    await client.query('ALTER TABLE messages RENAME TO messages_moved')
    for (let i = 0; i < 3; i++) if ((await chat('how long does an idle session last?', a, 'alice')).status === 500) errorsCaused++
    await client.query('ALTER TABLE messages_moved RENAME TO messages')
    await client.end()
  }
  t.equal(await server.stop('SIGTERM'), 0, 'the server wrote its logs and exited')
})

t.test('usage: every figure is what the workload did', async t => {
  const { code, stdout } = await run(['usage', '--dir', logDir, '--from', '1h', '--format', 'json'])
  t.equal(code, 0)
  const report = JSON.parse(stdout) as UsageReport
  t.equal(report.turns, 11, 'eleven turns answered (the failed ones are not turns)')
  t.same(report.turns_by_kind, { answer: 2, no_answer: 4, command: 4, command_error: 1 })
  t.equal(report.answer_rate, 2 / 6)
  t.equal(report.sessions_started, 3)
  t.equal(report.sessions_active, 3)
  t.equal(report.active_users, 2, 'alice and bob, by pseudonym; the anonymous session has no user')
  t.same(report.commands, { feedback: 2, help: 1, '(unknown)': 1, history: 1 }, 'an unknown command counts as one, under (unknown)')
  t.same(report.feedback, { up: 1, down: 1 })
  t.same(report.unanswered, [
    { example: 'what is the capital of Mongolia?', count: 3, variants: 3 },
    { example: 'who won the 1998 football world cup?', count: 1, variants: 1 }
  ], 'three wordings of one question grouped, most asked first')
  t.same(report.stats.unreadableFiles, [])
  t.equal(report.stats.badLines, 0)

  const text = await run(['usage', '--dir', logDir, '--from', '1h'])
  t.match(text.stdout, /answer rate\s+33\.3 %/)
  t.match(text.stdout, /3\s+3\s+what is the capital of Mongolia\?/)
  const md = await run(['usage', '--dir', logDir, '--from', '1h', '--format', 'md'])
  t.match(md.stdout, /^## Usage, /)
  t.match(md.stdout, /\| feedback \| 1 up, 1 down \|/)
})

t.test('errors: grouped by fingerprint, new this period, with the route and ids to jump to', { skip: serverUrl === '' && 'needs TEST_DATABASE_URL to make the running server fail' }, async t => {
  t.equal(errorsCaused, 3, 'the workload caused three 500s')
  const { code, stdout } = await run(['errors', '--dir', logDir, '--from', '1h', '--format', 'json'])
  t.equal(code, 0)
  const report = JSON.parse(stdout) as ErrorReport
  t.equal(report.total, 3)
  t.equal(report.patterns.length, 1, 'one error, three times: one pattern')
  t.match(report.patterns[0], { count: 3, previous_count: 0, trend: 'new', message: /relation "messages" does not exist/, modules: ['error_handler'], routes: ['/v1/chat'] })
  t.equal(report.patterns[0]!.sample_request_ids.length, 3)
  t.ok(report.patterns[0]!.sample_session_ids.length > 0, 'sessions to look at')
  const text = await run(['errors', '--dir', logDir, '--from', '1h'])
  t.match(text.stdout, /3 errors in 1 patterns \(the period before: 0\)/)
})

t.test('errors: the trend against the period before', async t => {
  // The same real line shapes, dated a week earlier and a week before that.
  const dir = await tempDir(t)
  const day = (offset: number) => new Date(Date.now() - offset * 86_400_000).toISOString()
  const line = (time: string, fingerprint: string) => JSON.stringify({ level: 'error', time, service: 'parley', module: 'error_handler', fn: 'onError', req_id: `r-${fingerprint}-${time}`, error_type: 'TypeError', error_message: `boom ${fingerprint}`, fingerprint, msg: 'unhandled TypeError' })
  const lines = [
    ...Array.from({ length: 2 }, (_, i) => line(day(10 + i / 10), 'growing')),
    ...Array.from({ length: 6 }, (_, i) => line(day(2 + i / 10), 'growing')),
    ...Array.from({ length: 6 }, (_, i) => line(day(9 + i / 10), 'shrinking')),
    line(day(1), 'shrinking'),
    line(day(9), 'steady'), line(day(1), 'steady')
  ]
  await writeFile(join(dir, `error.${day(12).slice(0, 10)}.1.log`), lines.join('\n') + '\n')
  const report = JSON.parse((await run(['errors', '--dir', dir, '--from', '7d', '--format', 'json'])).stdout) as ErrorReport
  t.same(report.patterns.map(p => [p.fingerprint, p.count, p.previous_count, p.trend]), [
    ['growing', 6, 2, 'growing'], ['shrinking', 1, 6, 'shrinking'], ['steady', 1, 1, 'steady']
  ])
})

t.test('perf: percentiles by route and reply kind, per hour', async t => {
  const { code, stdout } = await run(['perf', '--dir', logDir, '--from', '1h', '--format', 'json'])
  t.equal(code, 0)
  const report = JSON.parse(stdout) as PerfReport
  t.equal(report.bucket, 'hour', 'hourly for a period of an hour')
  const total = (series: string) => report.totals.find(row => row.series === series)
  t.equal(total('POST /v1/chat')?.count, 11 + errorsCaused, 'every chat request, failed ones included')
  t.equal(total('turn no_answer')?.count, 4)
  t.equal(total('turn answer')?.count, 2)
  t.notOk(report.totals.some(row => row.series.includes('/health')), 'probes left out')
  for (const row of report.totals) t.ok(row.p50_ms > 0 && row.p50_ms <= row.p95_ms && row.p95_ms <= row.p99_ms, `${row.series}: ${row.p50_ms} ≤ ${row.p95_ms} ≤ ${row.p99_ms} ms`)
  if (errorsCaused > 0) t.ok(total('turn answer')!.p99_ms >= 300, `the slow turn is the answers' p99 (${total('turn answer')!.p99_ms} ms)`)
  t.equal(report.rows.reduce((sum, row) => sum + (row.series === 'POST /v1/chat' ? row.count : 0), 0), 11 + errorsCaused, 'the hourly rows add up')
})

t.test('perf: a p95 that rose against the period before is flagged', async t => {
  const dir = await tempDir(t)
  const at = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString()
  const request = (time: string, ms: number, route: string) => JSON.stringify({ level: 'info', time, module: 'http', fn: 'onResponse', method: 'POST', route, status: 200, duration_ms: ms, msg: 'request completed' })
  const lines = [
    ...Array.from({ length: 30 }, (_, i) => request(at(10 + i / 100), 10, '/v1/chat')),
    ...Array.from({ length: 30 }, (_, i) => request(at(3 + i / 100), 30, '/v1/chat')),
    ...Array.from({ length: 30 }, (_, i) => request(at(10 + i / 100), 5, '/v1/kb/search')),
    ...Array.from({ length: 30 }, (_, i) => request(at(3 + i / 100), 5.5, '/v1/kb/search'))
  ]
  await writeFile(join(dir, `chatbot.${at(12).slice(0, 10)}.1.log`), lines.join('\n') + '\n')
  const report = JSON.parse((await run(['perf', '--dir', dir, '--from', '7d', '--format', 'json'])).stdout) as PerfReport
  t.equal(report.bucket, 'day')
  t.match(report.regressions, [{ series: 'POST /v1/chat', count: 30 }], 'only the route that got slower')
  t.equal(report.regressions.length, 1, '10% slower is not flagged')
  t.ok(Math.abs(report.regressions[0]!.ratio - 3) < 0.3, `about 3× (${report.regressions[0]?.ratio})`)
  t.match((await run(['perf', '--dir', dir, '--from', '7d'])).stdout, /- POST \/v1\/chat: p95 \d+(\.\d)? ms, was \d+(\.\d)? ms/)
})

t.test('report --weekly: this week against the last, as Markdown and self-contained HTML', async t => {
  const out = await tempDir(t)
  // The week of whole days before --to's day: to tomorrow, so that today is its last day.
  const today = new Date().toISOString().slice(0, 10)
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
  const { code, stdout } = await run(['report', '--weekly', '--dir', logDir, '--out', out, '--to', tomorrow])
  t.equal(code, 0)
  const markdown = await readFile(join(out, `parley-weekly-${today}.md`), 'utf8')
  const html = await readFile(join(out, `parley-weekly-${today}.html`), 'utf8')
  t.match(markdown, `# Parley weekly report, ${new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10)} to ${today}`, 'the header names the days the by-day table shows')
  t.ok(stdout.startsWith(markdown), 'the Markdown is also printed')
  const headings = markdown.split('\n').filter(line => line.startsWith('#')).map(line => line.replace(/\(.*\)|, .*$/g, '').trim())
  t.same(headings, ['# Parley weekly report', '## Turns and chat p95 by day', '## Top error patterns', '## Questions the bot could not answer', '## Alerts fired'], 'the sections, in order')
  t.match(markdown, /\| Turns \| 11 \| 0 \| new \|/)
  t.match(markdown, /\| Answer rate \| 33\.3 % \| n\/a \| – \|/)
  t.match(markdown, /\| Satisfaction \(feedback up\) \| 50\.0 % \| n\/a \| – \|/)
  t.match(markdown, /\| 3 \| 3 \| what is the capital of Mongolia\? \|/)
  t.match(html, /^<!doctype html>/)
  t.equal((html.match(/<svg /g) ?? []).length, 2, 'two inline charts')
  t.notMatch(html, /\b(src|href)=|url\(|@import/, 'nothing fetched: no links to load, no external resources')
  t.match(html, /<div class="n">11<\/div>/, 'the turns card')

  const json = JSON.parse((await run(['report', '--weekly', '--dir', logDir, '--format', 'json', '--to', tomorrow])).stdout) as WeeklyReport
  t.same([json.daily[0]!.day, json.daily[6]!.day], [json.this_week.from.slice(0, 10), today], 'the table\'s days are the week\'s')
  t.equal(json.this_week.to, `${tomorrow}T00:00:00.000Z`)
  t.match(json.this_week, { turns: 11, requests: 11 + errorsCaused, answer_rate: 2 / 6, satisfaction: 0.5, feedback: { up: 1, down: 1 }, sessions: 3, active_users: 2 })
  t.equal(json.this_week.error_rate, errorsCaused / (11 + errorsCaused))
  t.match(json.last_week, { turns: 0, requests: 0, error_rate: undefined })
  t.same(json.daily.map(entry => entry.turns), [0, 0, 0, 0, 0, 0, 11], 'all of it today')
  t.equal(json.top_errors.length, errorsCaused > 0 ? 1 : 0)
})

t.test('report --weekly counts the alerts that fired, not their reminders', async t => {
  const dir = await tempDir(t)
  const now = Date.now()
  const alert = (minutesAgo: number, name: string, status: string, repeat: boolean) => JSON.stringify({ level: status === 'firing' ? 'warn' : 'info', time: new Date(now - minutesAgo * 60_000).toISOString(), module: 'alerts', fn: 'notify', alert: name, severity: name === 'HighCpu' ? 'warning' : 'critical', status, repeat, value: 1, threshold: 0.5, msg: `alert ${name} ${status}` })
  const lines = [alert(300, 'HighErrorRate', 'firing', false), alert(200, 'HighErrorRate', 'firing', true), alert(100, 'HighErrorRate', 'resolved', false), alert(90, 'HighErrorRate', 'firing', false), alert(50, 'HighCpu', 'firing', false)]
  await writeFile(join(dir, `chatbot.${new Date(now).toISOString().slice(0, 10)}.1.log`), lines.join('\n') + '\n')
  const report = JSON.parse((await run(['report', '--weekly', '--dir', dir, '--format', 'json', '--to', new Date(now + 86_400_000).toISOString().slice(0, 10)])).stdout) as WeeklyReport
  t.same(report.alerts, [{ alert: 'HighErrorRate', severity: 'critical', fired: 2 }, { alert: 'HighCpu', severity: 'warning', fired: 1 }])
})

t.test('health: the server\'s /status when it answers, else what the logs tell', async t => {
  const key = 'health-admin-key-0123456789'
  const server = await startServer(t, { API_KEYS: `${key}:admin` })
  const live = await run(['health', '--url', server.base, '--format', 'json'], { PARLEY_API_KEY: key })
  t.equal(live.code, 0)
  t.match(JSON.parse(live.stdout), { source: 'status', url: server.base, status: { database: { reachable: true }, turns: { limit: Number } } })
  const text = (await run(['health', '--url', server.base], { PARLEY_API_KEY: key })).stdout
  t.match(text, /database\s+pglite, reachable/)
  // PGlite runs one turn at a time: "0 of 1" read as a count of one.
  t.match(text, /turns in flight\s+0, at most 1 at a time; 0 shed past capacity \(503\) in the last 5 min/)
  const refused = await run(['health', '--url', server.base, '--dir', logDir])
  t.match(refused.stdout, /answered 401 to GET \/status \(set PARLEY_API_KEY/, 'without a key: says so, then reads the logs')
  t.match(refused.stdout, /^Health from the log files \(the server refused GET \/status\)$/m, 'and does not say it did not answer')
  t.notMatch(refused.stdout, /did not answer/)
  t.match(refused.stdout, /state\s+running: it answered, but refused GET \/status/, 'and that it runs')
  await server.stop('SIGTERM')

  const fromLogs = await run(['health', '--url', server.base, '--dir', logDir, '--format', 'json'])
  const report = JSON.parse(fromLogs.stdout) as LogHealth
  t.match(report, { source: 'logs', last_start: { version: String }, running_or_crashed: false, alerts_firing: [] })
  t.ok(report.last_shutdown! > report.last_start!.time, 'shut down after its last start')
  t.equal(report.last_hour.requests, 11 + errorsCaused)
  t.equal(report.last_hour.errors, errorsCaused)
  t.match((await run(['health', '--url', server.base, '--dir', logDir])).stdout, /state\s+shut down cleanly/)
})

t.test('health finds the server where its logs say it listens, not at the PORT of the shell running analyze', async t => {
  const key = 'health-admin-key-0123456789'
  const dir = await tempDir(t)
  const server = await startServer(t, { API_KEYS: `${key}:admin`, LOG_DIR: dir })
  t.not(new URL(server.base).port, '3000')
  // The log worker writes "parley started" a moment after stdout says the server listens.
  const started = async (): Promise<boolean> => (await readFile(join(dir, 'chatbot.log'), 'utf8').catch(() => '')).includes('"msg":"parley started"')
  t.ok(await waitFor(started, 10_000), 'the start is in the log files')
  const found = await run(['health', '--dir', dir, '--format', 'json'], { PARLEY_API_KEY: key })
  t.match(JSON.parse(found.stdout), { source: 'status', url: server.base }, 'PORT unset here: the address the server logged')
  t.match(JSON.parse((await run(['health', '--dir', dir, '--format', 'json'], { PARLEY_API_KEY: key, PORT: '1' })).stdout), { source: 'logs' }, 'PORT set: that one, as before')
  await server.stop('SIGTERM')
})

t.test('damaged input is counted and reported, never a crash or a silent zero', async t => {
  const dir = await tempDir(t)
  await cp(logDir, dir, { recursive: true, filter: source => !source.endsWith('.log') || !source.split('/').pop()!.match(/^(chatbot|error|audit)\.log$/) })
  const [chatbotFile] = (await readdir(dir)).filter(name => name.startsWith('chatbot.') && name.endsWith('.log'))
  const original = await readFile(join(dir, chatbotFile!))
  // A rotated, gzipped copy cut in half, a stray line of another program, and a "file" that is a folder.
  const gz = gzipSync(Buffer.concat(Array(20).fill(original))) // large enough that its first half holds whole turns
  await writeFile(join(dir, chatbotFile!.replace('.1.log', '.7.log.gz')), gz.subarray(0, Math.floor(gz.length / 2)))
  await writeFile(join(dir, chatbotFile!), Buffer.concat([original, Buffer.from('this is not JSON\n{"half": \n')]))
  await mkdir(join(dir, chatbotFile!.replace('.1.log', '.9.log')))

  const { code, stdout } = await run(['usage', '--dir', dir, '--from', '1h'])
  t.equal(code, 1, 'exit 1: the figures are incomplete')
  t.match(stdout, /! 2 lines were not JSON log entries and were skipped\./)
  t.match(stdout, /chatbot\.[\d-]+\.7\.log\.gz is truncated or corrupt \(unexpected end of file\); its lines before the damage were read\./)
  t.match(stdout, /chatbot\.[\d-]+\.9\.log could not be read \(not a regular file\)/)
  const report = JSON.parse((await run(['usage', '--dir', dir, '--from', '1h', '--format', 'json'])).stdout) as UsageReport
  t.ok(report.turns > 11, `the readable part of the truncated copy counted too (${report.turns} turns)`)

  const missing = await run(['errors', '--dir', join(dir, 'nowhere')])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^analyze: there is no log directory .*nowhere: read the one the server writes to \(its LOG_DIR\)\n$/)
  const empty = await tempDir(t)
  const none = await run(['usage', '--dir', empty])
  t.equal(none.code, 1)
  t.match(none.stdout, /! No log files cover this period\./)
})

t.test('bad arguments are refused with the reason and the usage', async t => {
  for (const [args, message] of [
    [['usage', '--from', 'yesterday'], /--from "yesterday" is not an ISO date/],
    [['usage', '--to', '31/01/2026'], /--to "31\/01\/2026" is not an ISO date/],
    [['errors', '--from', '2026-02-01', '--to', '2026-01-01'], /must be before --to/],
    [['usage', '--format', 'xml'], /--format must be text, json or md/],
    [['perf', '--bucket', 'week'], /--bucket must be hour or day/],
    [['report'], /report needs --weekly/],
    [['report', '--weekly', '--from', '7d'], /takes no --from/],
    [['summary'], /unknown command "summary"/],
    [[], /no command given/],
    [['usage', '--bogus'], /Unknown option '--bogus'/]
  ] as Array<[string[], RegExp]>) {
    const { code, stderr } = await run(args)
    t.equal(code, 2, args.join(' '))
    t.match(stderr, message)
  }
  t.same(parsePeriod('2026-01-01', '2026-01-08'), { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-08T00:00:00Z') })
  t.same(parsePeriod('24h', '2026-01-08T12:00:00Z'), { from: new Date('2026-01-07T12:00:00Z'), to: new Date('2026-01-08T12:00:00Z') })
})

t.test('hostile chat text is printed escaped: no terminal control sequence, no broken Markdown table', async t => {
  const dir = await tempDir(t)
  const hostile = 'clear \u001b[2J\u001b]0;pwned\u0007 | and\na new row <img src=x>'
  const time = new Date(Date.now() - 60_000).toISOString()
  const lines = [
    { level: 'info', time, module: 'chat', fn: 'handleTurn', req_id: 'r1', input: 'question', text: hostile, msg: 'chat.message_received' },
    { level: 'info', time, module: 'chat', fn: 'handleTurn', req_id: 'r1', session_id: 's1', kind: 'no_answer', sources: 0, latency_ms: 3, msg: 'chat.reply_sent' }
  ]
  await writeFile(join(dir, `chatbot.${time.slice(0, 10)}.1.log`), lines.map(line => JSON.stringify(line)).join('\n') + '\n')
  const text = (await run(['usage', '--dir', dir])).stdout
  const markdown = (await run(['usage', '--dir', dir, '--format', 'md'])).stdout
  const weekly = (await run(['report', '--weekly', '--dir', dir, '--out', await tempDir(t), '--to', new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)])).stdout
  for (const [name, output] of [['text', text], ['markdown', markdown], ['weekly', weekly]] as const) {
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    t.notMatch(output, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, `${name}: no control character but line ends`)
    // In Markdown, brackets are escaped too (no link or image is made of users' words), which reads the same.
    t.match(output, name === 'text' ? 'clear \\u001b[2J\\u001b]0;pwned\\u0007' : 'clear \\u001b\\[2J\\u001b\\]0;pwned\\u0007', `${name}: the escapes are shown, not obeyed`)
  }
  for (const output of [markdown, weekly]) {
    const row = output.split('\n').find(line => line.includes('pwned'))!
    t.match(row, /^\| .* \\\| and\\u000aa new row &lt;img src=x> \|$/, 'one table row: the pipe escaped, the newline shown, no HTML tag')
  }
})

t.test('a FIFO named like a log file is reported as unreadable, not waited on for good', async t => {
  const dir = await tempDir(t)
  const day = new Date().toISOString().slice(0, 10)
  await writeFile(join(dir, `chatbot.${day}.1.log`), JSON.stringify({ level: 'info', time: new Date().toISOString(), module: 'chat', fn: 'handleTurn', req_id: 'r1', session_id: 's1', kind: 'answer', sources: 1, latency_ms: 3, msg: 'chat.reply_sent' }) + '\n')
  execFileSync('mkfifo', [join(dir, `chatbot.${day}.2.log`)])
  const result = await run(['usage', '--dir', dir])
  t.equal(result.code, 1, 'exit 1: a file could not be read')
  t.match(result.stdout, `chatbot.${day}.2.log could not be read`)
  t.match(result.stdout, /Turns\s+1|turns\s+1|1 turn/i, 'the readable file is still reported')
})
