// Every kind of personal data users type, planted through the chat route of the real server with
// chat text logged scrubbed (LOG_CHAT_CONTENT=redacted), then looked for everywhere Parley keeps or
// shows words: every log file, stdout and stderr, the turn traces as stored, everything an analyst
// reads in the console and the analytics, and the reports made from the log files (the weekly
// report's Markdown and HTML files too).
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { main as analyze } from '../../src/cli/analyze.js'
import { openDatabase } from '../../src/db/open-database.js'
import { readLogLines } from '../../src/logging/log-files.js'
import { projectRoot } from '../../src/project.js'
import { collector, migratedDataDir, tempDir } from '../helper.js'
import { startServer } from '../server-process.js'

const ADMIN = 'admin-key-0123456789abcdef'
const ANALYST = 'analyst-key-0123456789abcdef'
const USER_ID = 'planted.customer@example.org'

interface Sample { kind: string, text: string, secret: string[] }

async function samples (): Promise<Sample[]> {
  const dir = join(projectRoot, 'bench/scrubber')
  const files = (await readdir(dir)).filter(name => name.endsWith('.jsonl'))
  const all = await Promise.all(files.map(async name => (await readFile(join(dir, name), 'utf8')).split('\n').filter(line => line !== '')))
  return all.flat().map(line => JSON.parse(line) as Sample)
}

async function filesUnder (dir: string): Promise<Array<[string, string]>> {
  const found: Array<[string, string]> = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const lines: string[] = []
    for await (const line of readLogLines(path)) lines.push(line)
    found.push([path, lines.join('\n')])
  }
  return found
}

t.test('personal data typed in chat is in no log, no turn trace, no analyst\'s view and no report', async t => {
  const root = await tempDir(t)
  const logDir = join(root, 'logs')
  const dataDir = await migratedDataDir(t)
  const server = await startServer(t, {
    LOG_DIR: logDir, DATA_DIR: dataDir, LOG_CHAT_CONTENT: 'redacted', LOG_ID_SECRET: 'planted-secret', API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`
  })
  const planted = await samples()
  for (const { text } of planted) {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: text, user_id: USER_ID }) })
    t.equal(response.status, 200, text)
    await response.arrayBuffer()
  }

  // What an analyst reads: the conversations, one by one, their traces, the analytics.
  const shown: Array<[string, string]> = []
  const read = async (path: string): Promise<string> => {
    const response = await fetch(`${server.base}${path}`, { headers: { authorization: `Bearer ${ANALYST}` } })
    const body = await response.text()
    t.equal(response.status, 200, path)
    shown.push([path, body])
    return body
  }
  const refs = new Set<string>()
  const traces = new Set<string>()
  for (let before: string | null = ''; before !== null;) {
    const page = JSON.parse(await read(`/console/api/conversations?limit=100${before === '' ? '' : `&before=${before}`}`)) as
      { turns: Array<{ session_id: string | null, trace_id: string | null }>, next_before: string | null }
    for (const turn of page.turns) {
      if (turn.session_id !== null) refs.add(turn.session_id)
      if (turn.trace_id !== null) traces.add(turn.trace_id)
    }
    before = page.next_before
  }
  t.equal(refs.size, planted.length, 'every conversation is listed')
  for (const ref of refs) await read(`/console/api/conversations/${ref}`)
  for (const trace of traces) await read(`/console/api/traces/${trace}`)
  await read('/v1/analytics/usage')
  t.equal(await server.stop('SIGTERM'), 0)

  // The reports made from the log files, as `npm run analyze` makes them.
  const reports = join(root, 'reports')
  for (const argv of [['usage', '--format', 'json'], ['report', '--weekly', '--out', reports, '--format', 'json'], ['report', '--weekly', '--out', reports]]) {
    const stdout = collector()
    t.equal(await analyze([...argv, '--dir', logDir], {}, { stdout: stdout.stream, stderr: collector().stream } as never), 0, argv.join(' '))
    shown.push([`analyze ${argv.join(' ')}`, stdout.text()])
  }

  // The turn traces as stored, with their spans and log lines.
  const db = await openDatabase({ databaseUrl: '', dataDir, poolSize: 1 })
  const { rows } = await db.query<{ logs: unknown, spans: unknown }>('SELECT logs, spans FROM turn_traces')
  await db.close()
  t.ok(rows.length >= planted.length, `${rows.length} turn traces kept`)

  const everywhere: Array<[string, string]> = [
    ['stdout', server.stdout()], ['stderr', server.stderr()], ...await filesUnder(logDir), ...await filesUnder(reports),
    ['turn_traces', JSON.stringify(rows)], ...shown
  ]
  t.ok(everywhere.some(([, content]) => content.includes('my name is [NAME]')), 'the words were logged, scrubbed')
  // A value with the words before it, as typed: a short one ("123", "tom") is part of numbers,
  // fields and words everywhere, and is found only where the message put it ("cvv 123"). A value
  // the message holds in another form (full-width digits) is looked for as a token of its own.
  const probe = (text: string, value: string): (content: string) => boolean => {
    const at = text.indexOf(value)
    if (at < 0) return content => new RegExp(`(?<![\\p{L}\\p{N}_-])${value}(?![\\p{L}\\p{N}_-])`, 'u').test(content)
    const typed = text.slice(Math.max(0, at - (value.length < 6 ? 8 : 0)), at + value.length)
    return content => content.includes(typed) || content.includes(JSON.stringify(typed).slice(1, -1))
  }
  const leaks = planted.flatMap(({ kind, text, secret }) => secret.flatMap(value => {
    const found = probe(text, value)
    return everywhere.filter(([, content]) => found(content)).map(([where]) => `${kind} "${value}" in ${where}`)
  }))
  t.same(leaks, [], 'no planted value anywhere')
  t.notOk(everywhere.some(([, content]) => content.includes(USER_ID)), 'nor the user id')
})
