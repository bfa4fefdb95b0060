// The log files of the real server process: complete through rotations and shutdown, free of
// personal data, audit entries chained across restarts, and a deleted log directory survived.
import t from 'tap'
import { randomBytes, randomInt } from 'node:crypto'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { verifyAuditChain } from '../../src/logging/audit-chain.js'
import { listLogFiles, readLogLines } from '../../src/logging/log-files.js'
import { logFileLines, migratedDataDir, tempDir } from '../helper.js'
import { startServer } from '../server-process.js'

const ADMIN_KEY = 'admin-key-' + randomBytes(12).toString('hex')

const parsed = (lines: string[]) => lines.map(line => JSON.parse(line) as Record<string, unknown>)

t.test('N concurrent requests through several rotations, then SIGTERM: exactly N request lines on disk', async t => {
  const logDir = join(await tempDir(t), 'logs')
  // Half the requests are 404s, hundreds a second: every one of them is to have its line here.
  const server = await startServer(t, { LOG_DIR: logDir, LOG_FILE_MAX_SIZE: '16k', UNSERVED_PER_SECOND: '0' })
  const N = 400
  let sent = 0
  const worker = async (): Promise<void> => {
    while (sent < N) {
      const i = sent++
      const response = i % 2 === 0
        ? await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `how do I rotate logs? (${i})` }) })
        : await fetch(`${server.base}/v1/sessions/${crypto.randomUUID()}`)
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: 25 }, worker))
  t.equal(await server.stop('SIGTERM'), 0)

  const files = await listLogFiles(logDir, 'chatbot')
  t.ok(files.length >= 3, `rotated through ${files.length} chatbot files`)
  const lines = await logFileLines(logDir, 'chatbot')
  const entries = parsed(lines) // throws on a truncated or glued line
  const requests = entries.filter(entry => entry.msg === 'request completed')
  t.equal(requests.length, N, 'one request line per request')
  t.equal(new Set(requests.map(entry => entry.req_id)).size, N, 'no duplicates')
  t.ok(entries.some(entry => entry.msg === 'shut down'), 'the last shutdown line reached the file')
  const stdoutRequests = server.stdout().split('\n').filter(line => line.includes('"msg":"request completed"'))
  t.equal(stdoutRequests.length, N, 'stdout got every request line too')
})

t.test('start-up: the effective configuration with its secrets masked, and the janitor at work', async t => {
  const logDir = join(await tempDir(t), 'logs')
  const secret = randomBytes(16).toString('hex')
  const server = await startServer(t, { LOG_DIR: logDir, LOG_ID_SECRET: secret, API_KEYS: `${secret}:admin`, SMTP_PASSWORD: `smtp-${secret}` })
  t.equal(await server.stop(), 0)
  const entries = parsed(await logFileLines(logDir, 'chatbot'))
  const started = entries.find(entry => entry.msg === 'parley started') as { module: string, config: Record<string, unknown> } | undefined
  t.match(started, { module: 'server', fn: 'start', config: { LOG_DIR: logDir, LOG_ID_SECRET: '(set)', SMTP_PASSWORD: '(set)', API_KEYS: [/^key_[0-9a-f]{12}:admin$/] } }, 'the start-up line gives the configuration')
  t.notOk((await logFileLines(logDir, 'chatbot')).join('\n').includes(secret), 'and none of its secrets')
  t.notOk(server.stdout().includes(secret))
  t.ok(entries.some(entry => entry.msg === 'log_janitor.ran' && entry.module === 'log_janitor'), 'the retention janitor ran at start')
})

function luhnCard (): string {
  const digits = Array.from({ length: 15 }, (_, i) => i === 0 ? 4 : randomInt(10))
  const sum = digits.reduceRight((total, digit, index) => {
    const doubled = (digits.length - index) % 2 === 1 ? digit * 2 : digit
    return total + (doubled > 9 ? doubled - 9 : doubled)
  }, 0)
  return [...digits, (10 - sum % 10) % 10].join('')
}

t.test('personal data and secrets planted in messages, headers and error paths appear in no log', async t => {
  const logDir = join(await tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, LOG_LEVEL: 'debug', API_KEYS: `${ADMIN_KEY}:admin` })
  const tag = randomBytes(4).toString('hex')
  const card = luhnCard()
  const planted = {
    email: `leak.${tag}@example.com`,
    card,
    cardSpaced: card.replace(/(\d{4})(?=\d)/g, '$1 '),
    phone: `+44 20 7946 ${randomInt(1000, 9999)}`,
    iban: 'GB82WEST12345698765432',
    ip: `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
    apiKey: `sk-live-${randomBytes(12).toString('hex')}`,
    jwt: `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(`{"sub":"${tag}"}`).toString('base64url')}.${randomBytes(16).toString('base64url')}`,
    cookie: `sid-${randomBytes(10).toString('hex')}`,
    wrongKey: `wrong-key-${randomBytes(10).toString('hex')}`,
    adminKey: ADMIN_KEY,
    userId: `user.${tag}@example.org`
  }
  const json = { 'content-type': 'application/json' }
  const text = `I am ${planted.email}, card ${planted.cardSpaced}, phone ${planted.phone}, IBAN ${planted.iban}, from ${planted.ip}, key ${planted.apiKey}, token ${planted.jwt}`
  const calls: Array<[string, RequestInit]> = [
    ['/v1/chat', { method: 'POST', headers: json, body: JSON.stringify({ message: text, user_id: planted.userId }) }],
    ['/v1/chat', { method: 'POST', headers: json, body: JSON.stringify({ message: `/search ${text}`, user_id: planted.userId }) }],
    // Error paths: malformed JSON carrying the data, a bad id and cursor made of it, refused keys.
    ['/v1/chat', { method: 'POST', headers: json, body: `{"message": "${planted.email} ${planted.card}` }],
    [`/v1/sessions/${encodeURIComponent(planted.email)}`, { headers: { cookie: `session=${planted.cookie}` } }],
    [`/v1/sessions/${crypto.randomUUID()}/messages?before=${encodeURIComponent(planted.card)}`, {}],
    ['/v1/admin/log-level', { headers: { authorization: `Bearer ${planted.wrongKey}`, 'x-api-key': planted.apiKey } }],
    ['/v1/admin/log-level', { headers: { authorization: `Bearer ${planted.adminKey}`, cookie: `session=${planted.cookie}` } }],
    [`/v1/kb/documents/${encodeURIComponent(planted.email)}`, { method: 'PUT', headers: { ...json, authorization: `Bearer ${planted.adminKey}` }, body: JSON.stringify({ title: 'Contact', text: 'Write to the support desk.' }) }]
  ]
  const statuses: number[] = []
  for (const [path, init] of calls) {
    const response = await fetch(server.base + path, init)
    statuses.push(response.status)
    await response.arrayBuffer()
  }
  t.equal(await server.stop('SIGTERM'), 0)

  const outputs: Array<[string, string]> = [['stdout', server.stdout()], ['stderr', server.stderr()]]
  for (const name of await readdir(logDir)) {
    const lines: string[] = []
    for await (const line of readLogLines(join(logDir, name))) lines.push(line)
    outputs.push([name, lines.join('\n')])
  }
  const chatbot = outputs.find(([name]) => /^chatbot\..*\.log$/.test(name))?.[1] ?? ''
  t.ok(chatbot.split('\n').filter(line => line.includes('request completed')).length >= calls.length, `every request was logged (statuses ${statuses.join(' ')})`)
  t.match(chatbot, /\[EMAIL\].*\[CARD\]/, 'the chat text reached the log, scrubbed')
  for (const [name, content] of outputs) {
    for (const [kind, value] of Object.entries(planted)) t.notOk(content.includes(value), `${kind} is not in ${name}`)
  }
})

t.test('audit entries are chained, name key ids, and the chain continues across a restart', async t => {
  const root = await tempDir(t)
  const env = { LOG_DIR: join(root, 'logs'), DATA_DIR: await migratedDataDir(t), API_KEYS: `${ADMIN_KEY}:admin` }
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }

  let server = await startServer(t, env)
  const put = await fetch(`${server.base}/v1/kb/documents/returns`, { method: 'PUT', headers: admin, body: JSON.stringify({ title: 'Returns', text: 'Returns are accepted for 30 days.' }) })
  t.equal(put.status, 201)
  await fetch(`${server.base}/v1/admin/log-level`, { method: 'PUT', headers: admin, body: JSON.stringify({ level: 'debug' }) })
  await fetch(`${server.base}/v1/admin/log-level`, { headers: { authorization: 'Bearer not-a-key-of-ours-at-all' } })
  t.equal(await server.stop(), 0)

  server = await startServer(t, env)
  await fetch(`${server.base}/v1/kb/documents/returns`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  t.equal(await server.stop(), 0)

  const entries = parsed(await logFileLines(env.LOG_DIR, 'audit'))
  t.same(entries.map(entry => [entry.action, entry.result]), [
    ['kb.document.create', 'success'], ['log_level.change', 'success'], ['auth.denied', 'denied'], ['kb.document.delete', 'success']
  ], 'every admin action and the refused key, in order')
  t.same(entries.map(entry => entry.seq), [1, 2, 3, 4], 'the sequence continues after the restart')
  t.ok(entries.every(entry => typeof entry.actor === 'string' && /^(key_[0-9a-f]{12}|unknown-key|anonymous)$/.test(entry.actor)), 'actors are key ids, never keys')
  t.ok(entries.every(entry => typeof entry.req_id === 'string'), 'each entry names its request')
  const report = await verifyAuditChain([env.LOG_DIR])
  t.equal(report.intact, true, 'audit:verify finds the chain intact')
  t.equal(report.entriesChecked, 4)
})

t.test('two instances: each needs a log folder of its own, and each folder\'s audit chain verifies on its own', async t => {
  const root = await tempDir(t)
  const shared = join(root, 'logs')
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
  const first = await startServer(t, { LOG_DIR: shared, API_KEYS: `${ADMIN_KEY}:admin` })
  const secondData = await migratedDataDir(t)
  // Two writers of one audit.log interleave two chains: audit:verify took that for entries removed.
  await t.rejects(startServer(t, { LOG_DIR: shared, DATA_DIR: secondData, API_KEYS: `${ADMIN_KEY}:admin` }),
    new RegExp(`Parley could not start: ${shared.replaceAll('/', '\\/')} \\(LOG_DIR\\) is written by process \\d+ .*Each instance needs a log folder of its own.*LOG_DIR=`),
    'a second instance on the same LOG_DIR stops, naming the one writing there and what to set')
  const second = await startServer(t, { LOG_DIR: join(shared, 'second'), DATA_DIR: secondData, API_KEYS: `${ADMIN_KEY}:admin` })
  for (const [server, id] of [[first, 'one'], [second, 'two'], [first, 'three'], [second, 'four']] as const) {
    t.equal((await fetch(`${server.base}/v1/kb/documents/${id}`, { method: 'PUT', headers: admin, body: JSON.stringify({ title: id, text: `Document ${id}.` }) })).status, 201)
  }
  t.equal(await first.stop(), 0)
  t.equal(await second.stop(), 0)
  for (const dir of [shared, join(shared, 'second')]) {
    const report = await verifyAuditChain([dir])
    t.match(report, { intact: true, entriesChecked: 2 }, `${dir}: intact, with its instance's entries only`)
  }
  t.same(await readdir(shared).then(names => names.filter(name => name.endsWith('.lock'))), [], 'the lock is gone with its owner')
})

t.test('a deleted log directory: the server keeps serving, says so on stderr and in /status, and writes again', async t => {
  const logDir = join(await tempDir(t), 'logs')
  const admin = randomBytes(16).toString('hex')
  const server = await startServer(t, { LOG_DIR: logDir, API_KEYS: `${admin}:admin` })
  const chatbotState = async (): Promise<string> => {
    const response = await fetch(`${server.base}/status`, { headers: { authorization: `Bearer ${admin}` } })
    return (await response.json() as { log_destinations: Record<string, { state: string }> }).log_destinations.chatbot?.state ?? 'unknown'
  }
  t.equal(await chatbotState(), 'ok', '/status reports the file as working at first')
  // The server may write a file between rm's listing and its rmdir (ENOTEMPTY): rm retries then.
  await rm(logDir, { recursive: true, force: true, maxRetries: 10 })
  const states = new Set<string>()
  // Each family recovers on its own check: wait for the chatbot file's, not whichever comes first.
  const chatbotRecovered = /parley: log file .*chatbot\..*\.log works again/
  for (let i = 0; i < 100 && !chatbotRecovered.test(server.stderr()); i++) {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `still there? ${i}` }) })
    t.equal(response.status, 200, `turn ${i} served`)
    await response.arrayBuffer()
    states.add(await chatbotState())
    await sleep(100)
  }
  t.match(server.stderr(), /parley: log file chatbot in .* failed \(ENOENT/, 'the failure is reported on stderr')
  t.ok(states.has('failed'), '/status reported the failure while it lasted')
  t.match(server.stderr(), chatbotRecovered, 'and so is the recovery')
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'after the recovery' }) })
  await response.arrayBuffer()
  t.equal(await chatbotState(), 'ok', 'and /status the recovery')
  t.equal(await server.stop(), 0)
  const lines = await readFile(join(logDir, 'chatbot.log'), 'utf8')
  t.match(lines, /"msg":"request completed"/, 'request lines are written to the recreated directory')
})

t.test('a crash (an uncaught exception) is logged with its scrubbed stack and fingerprint to error.log before the process exits', async t => {
  const logDir = join(await tempDir(t), 'logs')
  // A real uncaught exception in the server process, thrown when the test asks for it (SIGWINCH
  // is a signal close-with-grace leaves alone).
  const crashOnSignal = "process.on('SIGWINCH', () => setImmediate(() => { throw new Error('planted crash for jane.doe@example.com at 10.1.2.3') }))"
  // A file, not a data: URL, so the stack's frame is a path rather than this source with its planted values.
  const crashModule = join(await tempDir(t), 'crash-on-signal.mjs')
  await writeFile(crashModule, crashOnSignal)
  const server = await startServer(t, { LOG_DIR: logDir }, ['--import', pathToFileURL(crashModule).href])
  for (let i = 0; i < 20; i++) await (await fetch(`${server.base}/v1/sessions/${crypto.randomUUID()}`)).arrayBuffer()
  const code = await server.stop('SIGWINCH')
  t.equal(code, 1, 'exit code 1')
  const errors = parsed(await logFileLines(logDir, 'error'))
  t.equal(errors.length, 1, 'one error line')
  t.match(errors[0], { level: 'fatal', module: 'server', msg: 'shutting down after a fatal error', error_type: 'Error', error_message: 'planted crash for [EMAIL] at [IP]', fingerprint: /^[0-9a-f]{16}$/, stack: /^Error: planted crash for \[EMAIL\] at \[IP\]\n/ })
  for (const [name, text] of [['error.log', JSON.stringify(errors)], ['stdout', server.stdout()], ['stderr', server.stderr()]]) {
    t.notOk(text!.includes('jane.doe') || text!.includes('10.1.2.3'), `the crash's personal data is not in ${name}`)
  }
  const lines = parsed(await logFileLines(logDir, 'chatbot'))
  t.equal(lines.filter(entry => entry.msg === 'request completed').length, 20, 'the requests before the crash are on disk')
  t.ok(lines.some(entry => entry.msg === 'shut down'), 'and so is the end of the shutdown')
})

t.test('one server per DATA_DIR: a second exits 1 naming the first, which keeps serving; a killed server\'s folder is taken over', async t => {
  const dataDir = await migratedDataDir(t)
  const first = await startServer(t, { DATA_DIR: dataDir })
  const logDir = join(await tempDir(t), 'logs')
  await t.rejects(startServer(t, { DATA_DIR: dataDir, LOG_DIR: logDir }), { message: /^server exited with 1 before listening:[^]*Parley could not start: .* is in use by process \d+ .*npm run kb:import -- --url/ })
  const fatal = parsed(await logFileLines(logDir, 'error'))
  t.match(fatal, [{ level: 'fatal', module: 'server', msg: 'could not start', error_type: 'DataDirLockedError' }], 'and says so in error.log')
  t.equal((await fetch(`${first.base}/ready`)).status, 200, 'the first server still serves')
  t.equal(await first.stop('SIGKILL'), null)
  const next = await startServer(t, { DATA_DIR: dataDir })
  t.equal((await fetch(`${next.base}/ready`)).status, 200, 'a server started after a crash takes the folder over')
  t.equal(await next.stop(), 0)
})

/** The keys of a JSON object line at its top level, repeats included (JSON.parse keeps the last of a repeated key). */
function topLevelKeys (line: string): string[] {
  const keys: string[] = []
  let depth = 0
  for (let i = 0; i < line.length; i++) {
    const char = line[i]
    if (char === '"') {
      let end = i + 1
      while (line[end] !== '"') end += line[end] === '\\' ? 2 : 1
      if (depth === 1 && /^\s*:/.test(line.slice(end + 1, end + 3))) keys.push(JSON.parse(line.slice(i, end + 1)) as string)
      i = end
    } else if (char === '{' || char === '[') {
      depth++
    } else if (char === '}' || char === ']') {
      depth--
    }
  }
  return keys
}

t.test('every line of every log file is JSON without a repeated key, and names its module and function', async t => {
  const logDir = join(await tempDir(t), 'logs')
  const admin = randomBytes(16).toString('hex')
  const server = await startServer(t, { LOG_DIR: logDir, API_KEYS: `${admin}:admin` })
  await (await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'how do I view traces?' }) })).arrayBuffer()
  await (await fetch(`${server.base}/v1/admin/log-level`, { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ level: 'info' }) })).arrayBuffer()
  await (await fetch(`${server.base}/v1/admin/log-level`)).arrayBuffer() // a denied request: an audit entry too
  await (await fetch(`${server.base}/no/such/route`)).arrayBuffer()
  t.equal(await server.stop(), 0)
  let checked = 0
  for (const family of ['chatbot', 'error', 'audit'] as const) {
    for (const line of await logFileLines(logDir, family)) {
      const keys = topLevelKeys(line)
      t.same(keys.filter((key, i) => keys.indexOf(key) !== i), [], `no key twice in ${line.slice(0, 160)}`)
      t.match(JSON.parse(line), { module: String, fn: String }, `module and fn in ${line.slice(0, 160)}`)
      checked++
    }
  }
  t.ok(checked > 10, `${checked} lines checked`)
  t.ok((await logFileLines(logDir, 'chatbot')).some(line => line.includes('Server listening at')), 'Fastify\'s own lines among them')
  t.ok((await logFileLines(logDir, 'audit')).length >= 2, 'and audit entries')
})

t.test('a port in use stops the start with a message naming the host and port and what to do', async t => {
  const first = await startServer(t)
  const port = new URL(first.base).port
  const logDir = join(await tempDir(t), 'logs')
  await t.rejects(startServer(t, { PORT: port, LOG_DIR: logDir }), { message: new RegExp(`^server exited with 1 before listening:[^]*Parley could not start: port ${port} on 127\\.0\\.0\\.1 is already in use, by another Parley or another program: stop it, or set PORT to a free port\\.`) })
  t.match(parsed(await logFileLines(logDir, 'error')), [{ level: 'fatal', msg: 'could not start listening', host: '127.0.0.1', port: Number(port), reason: /already in use/ }])
  t.equal(await first.stop(), 0)
})

t.test('NODE_ENV=production with the defaults: a name, a street address and an SSN in chat appear in no log file and not on stdout', async t => {
  const logDir = join(await tempDir(t), 'logs')
  const server = await startServer(t, { NODE_ENV: 'production', LOG_DIR: logDir })
  const planted = ['John Smith', '12 Baker Street', '123-45-6789']
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `my name is ${planted[0]}, I live at ${planted[1]}, my SSN is ${planted[2]}: how do I view traces?`, user_id: 'john.smith' }) })
  t.equal(response.status, 200)
  const { session_id: sessionId } = await response.json() as { session_id: string }
  await (await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `/search ${planted[1]}`, session_id: sessionId }) })).arrayBuffer()
  t.equal(await server.stop(), 0)
  const everything = [server.stdout(), server.stderr(), ...await Promise.all((await readdir(logDir)).map(async name => await readFile(join(logDir, name), 'utf8').catch(() => '')))].join('\n')
  t.match(everything, /chat\.message_received/, 'the turn was logged')
  for (const value of [...planted, 'john.smith']) t.notMatch(everything, value, `${value} is in no log`)
})
