// "Is the bot healthy?" from the last day of logs (real files, an injected now) and from a server's
// GET /status (a real HTTP server): starts and shutdowns, alerts left firing, the last hour's
// figures, where the last started server listens, and a refused key said as such.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { healthFromLogs, healthFromServer, lastListeningUrl } from '../../../src/analysis/health-report.js'
import { tempDir } from '../../helper.js'

const NOW = new Date('2026-11-20T12:00:00.000Z')
const ago = (minutes: number): string => new Date(NOW.getTime() - minutes * 60_000).toISOString()
const entry = (minutes: number, msg: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ level: 'info', time: ago(minutes), msg, ...extra })
const notify = (minutes: number, alert: string, status: 'firing' | 'resolved', extra: Record<string, unknown> = {}): Record<string, unknown> =>
  entry(minutes, 'alert notification', { level: status === 'firing' ? 'warn' : 'info', module: 'alerts', fn: 'notify', alert, status, severity: 'critical', ...extra })

async function logDir (t: Test, entries: Array<Record<string, unknown>>, name = 'chatbot.2026-11-20.1.log'): Promise<string> {
  const dir = await tempDir(t)
  await writeFile(join(dir, name), entries.map(line => JSON.stringify(line)).join('\n') + '\n')
  return dir
}

t.test('an empty log folder: nothing known, not running', async t => {
  const report = await healthFromLogs(await tempDir(t), NOW)
  const { stats, ...rest } = report
  t.same(rest, { source: 'logs', last_start: undefined, last_shutdown: undefined, running_or_crashed: false, alerts_firing: [], last_hour: { errors: 0, slow_statements: 0, shed_requests: 0, requests: 0 }, last_error: undefined })
  t.equal(stats.files, 0)
})

t.test('started after its last shutdown: running, or crashed', async t => {
  const dir = await logDir(t, [
    entry(600, 'parley started', { version: '0.0.9' }),
    entry(500, 'shut down'),
    entry(300, 'parley started', { version: '0.1.0' })
  ])
  const report = await healthFromLogs(dir, NOW)
  t.same(report.last_start, { time: ago(300), version: '0.1.0' }, 'the last start, with its version')
  t.equal(report.last_shutdown, ago(500))
  t.equal(report.running_or_crashed, true)
})

t.test('shut down after its last start: stopped cleanly', async t => {
  const dir = await logDir(t, [entry(300, 'parley started', { version: '0.1.0' }), entry(10, 'shut down')])
  const report = await healthFromLogs(dir, NOW)
  t.equal(report.running_or_crashed, false)
  const never = await healthFromLogs(await logDir(t, [entry(10, 'shut down')]), NOW)
  t.equal(never.running_or_crashed, false, 'a shutdown with no start in the day')
  const stillUp = await healthFromLogs(await logDir(t, [entry(10, 'parley started')]), NOW)
  t.equal(stillUp.running_or_crashed, true, 'started and never shut down')
})

t.test('the last hour: requests (those only counted too), shed requests, slow statements and errors; older ones count only as the last error', async t => {
  const dir = await logDir(t, [
    entry(61, 'request completed', { status: 200 }),
    entry(61, 'request completed', { status: 503 }),
    entry(61, 'slow statement'),
    entry(61, 'database lost', { level: 'error' }),
    entry(60, 'request completed', { status: 200 }),
    entry(30, 'request completed', { status: 503 }),
    entry(30, 'unserved requests not logged one by one', { status: 503, unlogged: 40 }),
    entry(30, 'unserved requests not logged one by one', { status: 429, unlogged: 7 }),
    entry(30, 'request completed', { status: 500, level: 'error' }),
    entry(20, 'slow statement'),
    entry(20, 'slow statement', { level: 'warn' }),
    entry(5, 'unhandled error', { level: 'error' }),
    entry(3, 'crash', { level: 'fatal' }),
    entry(2, 'chat.reply_sent'),
    entry(1, 'some warning', { level: 'warn' })
  ])
  const report = await healthFromLogs(dir, NOW)
  t.same(report.last_hour, { requests: 50, shed_requests: 41, slow_statements: 2, errors: 3 }, 'from exactly an hour ago, with the refusals a flood\'s line counts')
  t.same(report.last_error, { time: ago(3), msg: 'crash' }, 'fatal counts as an error')
  const quiet = await healthFromLogs(await logDir(t, [entry(120, 'database lost', { level: 'error' })]), NOW)
  t.same(quiet.last_hour.errors, 0)
  t.same(quiet.last_error, { time: ago(120), msg: 'database lost' }, 'the last error of the day, even if older than the hour')
})

t.test('alerts left firing, since they first fired; resolved ones are not', async t => {
  const dir = await logDir(t, [
    notify(300, 'HighErrorRate', 'firing', { since: ago(302) }),
    notify(240, 'HighErrorRate', 'firing', { since: ago(240), repeat: true }),
    notify(200, 'DatabaseUnavailable', 'firing', { severity: 'critical' }),
    notify(100, 'DatabaseUnavailable', 'resolved'),
    notify(90, 'ResponseTimeDegradation', 'resolved'),
    notify(50, 'HighMemory', 'firing', { severity: 'warning', since: ago(55) }),
    notify(40, 'HighMemory', 'resolved'),
    notify(30, 'HighMemory', 'firing', { severity: 'warning', since: ago(31) }),
    entry(20, 'alert notification', { module: 'alerts', fn: 'deliver', alert: 'Ignored', status: 'firing' }),
    entry(20, 'alert notification', { module: 'alerts', fn: 'notify', status: 'firing' })
  ])
  const report = await healthFromLogs(dir, NOW)
  t.same(report.alerts_firing, [
    { alert: 'HighErrorRate', severity: 'critical', since: ago(302) },
    { alert: 'HighMemory', severity: 'warning', since: ago(31) }
  ], 'a repeat keeps the first since; firing again after resolving starts anew; only notify lines with an alert')
  const noSince = await healthFromLogs(await logDir(t, [notify(15, 'DiskFilling', 'firing', { severity: 'warning' })]), NOW)
  t.same(noSince.alerts_firing, [{ alert: 'DiskFilling', severity: 'warning', since: ago(15) }], 'without since, the line\'s time')
})

t.test('only the last day is read', async t => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'chatbot.2026-11-19.1.log'), [
    entry(24 * 60 + 1, 'parley started'),
    entry(24 * 60 + 1, 'old error', { level: 'error' }),
    entry(24 * 60, 'shut down')
  ].map(line => JSON.stringify(line)).join('\n') + '\n')
  const report = await healthFromLogs(dir, NOW)
  t.equal(report.last_start, undefined, 'a start older than a day')
  t.equal(report.last_error, undefined)
  t.equal(report.last_shutdown, ago(24 * 60), 'exactly a day ago is in')
  t.equal(report.stats.files, 1)
})

t.test('lastListeningUrl: the first address of the server that last started', async t => {
  const dir = await logDir(t, [
    entry(300, 'Server listening at http://127.0.0.1:3000'),
    entry(300, 'parley started'),
    entry(200, 'Server listening at http://[::1]:3001'),
    entry(200, 'Server listening at http://127.0.0.1:3001'),
    entry(200, 'parley started'),
    entry(100, 'Server listening at http://127.0.0.1:3999')
  ])
  t.equal(await lastListeningUrl(dir, NOW), 'http://[::1]:3001', 'a listening line with no start after it is a server that did not start')
  t.equal(await lastListeningUrl(await logDir(t, [entry(5, 'parley started')]), NOW), undefined, 'a start without an address')
  t.equal(await lastListeningUrl(await logDir(t, [entry(5, 'Server listening at not-a-url'), entry(5, 'parley started')]), NOW), undefined, 'not an http(s) address')
  t.equal(await lastListeningUrl(await tempDir(t), NOW), undefined)
  t.equal(await lastListeningUrl(await logDir(t, [entry(25 * 60, 'Server listening at http://127.0.0.1:3000'), entry(25 * 60, 'parley started')], 'chatbot.2026-11-19.1.log'), NOW), undefined, 'older than a day')
})

/** A real server answering GET /status with the given status and body; records what it was sent. */
async function statusServer (t: Test, status: number, body: unknown): Promise<{ url: string, seen: Array<{ url?: string, headers: IncomingHttpHeaders }> }> {
  const seen: Array<{ url?: string, headers: IncomingHttpHeaders }> = []
  const server = createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers })
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

t.test('healthFromServer: the status with the key, a refusal said, nothing when nobody answers', async t => {
  const ok = await statusServer(t, 200, { status: 'ok', database: { up: true } })
  t.same(await healthFromServer(`${ok.url}/some/path`, 'admin-key-0123456789'), { status: { status: 'ok', database: { up: true } } })
  t.equal(ok.seen[0]?.url, '/status', 'always /status at the server\'s root')
  t.equal(ok.seen[0]?.headers.authorization, 'Bearer admin-key-0123456789')
  await healthFromServer(ok.url, undefined)
  t.equal(ok.seen[1]?.headers.authorization, undefined, 'no key, no header')
  for (const status of [401, 403]) {
    const refusing = await statusServer(t, status, { title: 'Unauthorized' })
    t.same(await healthFromServer(refusing.url, 'wrong'), { refused: `${refusing.url} answered ${status} to GET /status (set PARLEY_API_KEY to an admin or analyst key)` })
  }
  const broken = await statusServer(t, 500, {})
  t.same(await healthFromServer(broken.url, 'k'), { refused: `${broken.url} answered 500 to GET /status` }, 'another failure, without the key hint')
  // A port that was free a moment ago, and closed again.
  const free = createServer()
  await new Promise<void>(resolve => free.listen(0, '127.0.0.1', resolve))
  const unusedPort = (free.address() as AddressInfo).port
  await new Promise(resolve => free.close(resolve))
  t.same(await healthFromServer(`http://127.0.0.1:${unusedPort}`, 'k'), {}, 'nobody listening: nothing, for the logs to answer')
})
