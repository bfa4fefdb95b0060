import { execFileSync } from 'node:child_process'
import { symlinkSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { gzipSync } from 'node:zlib'
import t, { type Test } from 'tap'
import { main } from '../../../src/cli/audit-verify.js'
import { chainAuditLine, GENESIS } from '../../../src/logging/audit-chain.js'

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-audit-verify-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const auditLine = (n: number) => JSON.stringify({ level: 'audit', time: new Date(Date.UTC(2026, 10, 20, 0, 0, n)).toISOString(), actor: 'key:3f9a', action: 'kb.put', target: `doc-${n}`, result: 'ok', msg: 'admin action' })

/** A project folder holding `logs/` with the given number of entries in each audit file, the first gzipped. */
async function project (t: Test, perFile: number[]): Promise<{ root: string, logs: string, names: string[] }> {
  const root = await tempDir(t)
  const logs = join(root, 'logs')
  await mkdir(logs)
  let state = GENESIS
  const names = perFile.map((_, i) => `audit.2026-11-${19 + i}.${i + 1}.log${i === 0 ? '.gz' : ''}`)
  for (const [i, count] of perFile.entries()) {
    const lines: string[] = []
    for (let n = 0; n < count; n++) {
      const chained = chainAuditLine(auditLine(state.seq + 1), state)
      lines.push(chained.line)
      state = chained.state
    }
    const text = lines.join('\n') + '\n'
    await writeFile(join(logs, names[i]!), names[i]!.endsWith('.gz') ? gzipSync(text) : text)
  }
  return { root, logs, names }
}

function collector () {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', chunk => { text += String(chunk) })
  return { stream, text: () => text }
}

async function run (argv: string[], env: Record<string, string | undefined>) {
  const stdout = collector()
  const stderr = collector()
  const code = await main(argv, env, { stdout: stdout.stream, stderr: stderr.stream })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

t.test('an intact chain: exit 0 and a summary with counts and where the chain starts', async t => {
  const { root, logs, names } = await project(t, [400, 500, 334])
  t.same(await run(['logs'], { INIT_CWD: root }), {
    code: 0,
    stdout: 'audit chain intact: 1,234 entries in 3 files, from seq 1 (genesis) to seq 1234\n',
    stderr: ''
  })
  t.same(await run([join(logs, names[2]!), join(logs, names[1]!)], {}), {
    code: 0,
    stdout: 'audit chain intact: 834 entries in 2 files, from seq 401 (not the genesis: the entries before it are not in these files) to seq 1234\n',
    stderr: ''
  })
})

t.test('a broken chain: exit 1, the file, line, seq and reason, and what was intact before it', async t => {
  const { root, logs, names } = await project(t, [5, 5])
  const file = join(logs, names[1]!)
  const lines = (await readFile(file, 'utf8')).split('\n')
  lines[2] = lines[2]!.replace('"result":"ok"', '"result":"denied"')
  await writeFile(file, lines.join('\n'))
  t.same(await run(['logs'], { INIT_CWD: root }), {
    code: 1,
    stdout: `audit chain BROKEN at logs/${names[1]} line 3 (seq 8): hash does not match the entry's content: the entry was changed\n` +
      'the 7 entries before it are intact, from seq 1 (genesis) to seq 7\n',
    stderr: ''
  })
  // Outside the folder the command was typed in, the path is printed whole.
  t.match(await run([logs], { INIT_CWD: join(root, 'elsewhere') }), { code: 1, stdout: `audit chain BROKEN at ${file} line 3 (seq 8)` })
})

t.test('--format json, as every CLI takes it, prints the report as --json does', async t => {
  const { root } = await project(t, [2])
  const { code, stdout } = await run(['--format', 'json', 'logs'], { INIT_CWD: root })
  t.equal(code, 0)
  t.match(JSON.parse(stdout), { intact: true, entriesChecked: 2 })
  t.match(await run(['--format', 'yaml'], { INIT_CWD: root }), { code: 2, stdout: '' })
})

t.test('--json prints the report', async t => {
  const { root, logs, names } = await project(t, [2, 3])
  const { code, stdout } = await run(['--json', 'logs'], { INIT_CWD: root })
  t.equal(code, 0)
  t.match(JSON.parse(stdout), {
    intact: true,
    files: names.map(name => join(logs, name)),
    filesChecked: 2,
    entriesChecked: 5,
    start: { file: join(logs, names[0]!), line: 1, seq: 1, genesis: true },
    end: { seq: 5 },
    break: null
  })
  await writeFile(join(logs, names[1]!), 'not json\n')
  t.match(JSON.parse((await run(['logs', '--json'], { INIT_CWD: root })).stdout), {
    intact: false,
    break: { file: join(logs, names[1]!), line: 1, seq: 3, reason: 'line is not JSON (truncated?)' }
  })
})

t.test('without paths, LOG_DIR is checked, else ./logs', async t => {
  const { root, logs } = await project(t, [3])
  t.match(await run([], { LOG_DIR: logs }), { code: 0, stdout: 'audit chain intact: 3 entries in 1 file, from seq 1 (genesis) to seq 3\n' })
  const cwd = process.cwd()
  t.teardown(() => process.chdir(cwd))
  process.chdir(root)
  t.match(await run([], {}), { code: 0, stdout: 'audit chain intact: 3 entries in 1 file' })
  process.chdir(await tempDir(t))
  t.same(await run([], {}), { code: 2, stdout: '', stderr: `audit:verify: ${join(process.cwd(), 'logs')} does not exist\n` })
  t.match(await run([], { LOG_DIR: '' }), { code: 2, stderr: /^audit:verify: LOG_DIR is empty/ })
})

t.test('usage errors and paths that cannot be checked: exit 2 with a message, no stack', async t => {
  const { root, logs } = await project(t, [1])
  t.same(await run(['nope'], { INIT_CWD: root }), { code: 2, stdout: '', stderr: `audit:verify: ${join(root, 'nope')} does not exist\n` })
  t.same(await run([root], {}), { code: 2, stdout: '', stderr: `audit:verify: ${root} holds no audit files (audit.<yyyy-MM-dd>.<n>.log or .log.gz)\n` })
  await writeFile(join(logs, 'chatbot.2026-11-19.1.log'), '{"level":"info"}\n')
  t.match(await run([join(logs, 'chatbot.2026-11-19.1.log')], {}), { code: 2, stderr: /is the chatbot log, not an audit log\n$/ })
  t.match(await run(['--verbose'], {}), { code: 2, stderr: /^audit:verify: unknown option --verbose\. Usage: npm run audit:verify/ })
  t.match(await run(['--help'], {}), { code: 0, stdout: /^Usage: npm run audit:verify -- \[--format text\|json\]/ })
})

t.test('a FIFO or a link to /dev/zero named like an audit file: exit 2 naming it, not a hang, a crash or "broken"', async t => {
  for (const make of [(path: string) => execFileSync('mkfifo', [path]), (path: string) => symlinkSync('/dev/zero', path)]) {
    const dir = await mkdtemp(join(tmpdir(), 'parley-audit-special-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const path = join(dir, 'audit.2026-11-22.1.log')
    make(path)
    const result = await run([dir], {})
    t.equal(result.code, 2)
    t.match(result.stderr, `audit:verify: cannot read ${path}: not a regular file`)
  }
})
