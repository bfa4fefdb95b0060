import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import t, { type Test } from 'tap'
import {
  AuditPathError, chainAuditLine, GENESIS, GENESIS_HASH, lastChainState, verifyAuditChain, type ChainState
} from '../../../src/logging/audit-chain.js'

// What the log writer hands over: pino's JSON line, without the newline. The odd values check that
// the hash covers the written bytes: non-ASCII text, escapes, and inner fields named like the chain's.
function auditLine (n: number): string {
  return JSON.stringify({
    level: 'audit',
    time: new Date(Date.UTC(2026, 10, 19, 9, 0, n)).toISOString(),
    pid: 4242,
    hostname: 'parley-1',
    actor: `key:${(1000 + n).toString(16)}`,
    action: n % 2 === 0 ? 'kb.put' : 'kb.delete',
    target: n === 3 ? 'café ☕ "quoted" }' : `doc-${n}`,
    result: 'ok',
    details: { seq: 99, hash: 'not-the-chain' },
    msg: 'admin action'
  })
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

// The oldest file is gzipped, as the janitor leaves it, and its number sorts before the others only
// as a number (9 < 10), not as text.
const FILES = ['audit.2026-11-19.9.log.gz', 'audit.2026-11-19.10.log', 'audit.2026-11-20.11.log']
const PER_FILE = 5

interface Fixture { dir: string, paths: string[], lines: string[][], state: ChainState }

async function tempDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-audit-chain-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function writeLogFile (path: string, lines: string[], ending = '\n'): Promise<void> {
  const text = lines.join('\n') + ending
  await writeFile(path, path.endsWith('.gz') ? gzipSync(text) : text)
}

async function readLogFile (path: string): Promise<string[]> {
  const data = await readFile(path)
  return (path.endsWith('.gz') ? gunzipSync(data) : data).toString('utf8').replace(/\n$/, '').split('\n')
}

async function chainedLogDir (t: Test): Promise<Fixture> {
  const dir = join(await tempDir(t), 'logs')
  await mkdir(dir)
  let state = GENESIS
  const lines: string[][] = []
  for (const name of FILES) {
    const fileLines: string[] = []
    for (let i = 0; i < PER_FILE; i++) {
      const chained = chainAuditLine(auditLine(state.seq + 1), state)
      fileLines.push(chained.line)
      state = chained.state
    }
    lines.push(fileLines)
    await writeLogFile(join(dir, name), fileLines)
  }
  // Other families and the current-file link share the directory and must be left out.
  await writeFile(join(dir, 'chatbot.2026-11-20.1.log'), '{"level":"info","msg":"hello"}\n')
  await symlink(FILES.at(-1)!, join(dir, 'audit.log'))
  return { dir, paths: FILES.map(name => join(dir, name)), lines, state }
}

async function editFile (path: string, edit: (lines: string[]) => string[], ending = '\n'): Promise<void> {
  await writeLogFile(path, edit(await readLogFile(path)), ending)
}

t.test('chainAuditLine appends seq, prev_hash and a hash of the text written without it', async t => {
  const line = auditLine(3)
  const first = chainAuditLine(line, GENESIS)
  t.equal(GENESIS_HASH, '0'.repeat(64))
  t.equal(first.line, `${line.slice(0, -1)},"seq":1,"prev_hash":"${GENESIS_HASH}","hash":"${first.state.hash}"}`)
  t.equal(first.state.hash, sha256(`${line.slice(0, -1)},"seq":1,"prev_hash":"${GENESIS_HASH}"}`))
  t.same(first.state, { seq: 1, hash: first.state.hash })
  t.match(JSON.parse(first.line), { level: 'audit', target: 'café ☕ "quoted" }', seq: 1, prev_hash: GENESIS_HASH, hash: first.state.hash })

  const second = chainAuditLine(auditLine(4), first.state)
  t.match(JSON.parse(second.line), { seq: 2, prev_hash: first.state.hash, hash: second.state.hash })
  t.equal(second.state.seq, 2)

  const empty = chainAuditLine('{}', GENESIS)
  t.same(JSON.parse(empty.line), { seq: 1, prev_hash: GENESIS_HASH, hash: sha256(`{"seq":1,"prev_hash":"${GENESIS_HASH}"}`) })
  const dir = await tempDir(t)
  await writeLogFile(join(dir, 'audit.2026-11-19.1.log'), [empty.line, chainAuditLine('{}', empty.state).line])
  t.match(await verifyAuditChain([dir]), { intact: true, entriesChecked: 2 })
  t.throws(() => chainAuditLine(line + '\n', GENESIS), TypeError)
})

t.test('an intact chain across rotated files, one gzipped, passes from the genesis', async t => {
  const { dir, paths, lines, state } = await chainedLogDir(t)
  const expected = {
    intact: true,
    files: paths,
    filesChecked: 3,
    entriesChecked: 15,
    start: { file: paths[0], line: 1, seq: 1, genesis: true },
    end: state,
    break: null
  }
  t.same(await verifyAuditChain([dir]), expected)
  // As a shell lists `logs/audit.*`: by text, so 10 and 11 before 9.
  t.same(await verifyAuditChain([...paths].sort()), expected)
  t.same(await verifyAuditChain([paths[0]!]), { ...expected, files: [paths[0]], filesChecked: 1, entriesChecked: 5, end: { seq: 5, hash: JSON.parse(lines[0]![4]!).hash } })
})

t.test('each kind of tampering is reported at the first broken file and line', async t => {
  const cases: Array<{ name: string, file: number, tamper: (lines: string[]) => string[], ending?: string, line: number, seq: number, reason: string }> = [
    {
      name: 'a field edited',
      file: 1,
      tamper: lines => lines.map((line, i) => i === 2 ? line.replace('"result":"ok"', '"result":"denied"') : line),
      line: 3,
      seq: 8,
      reason: 'hash does not match the entry\'s content: the entry was changed'
    },
    {
      name: 'an entry deleted',
      file: 1,
      tamper: lines => lines.filter((_, i) => i !== 2),
      line: 3,
      seq: 9,
      reason: 'prev_hash does not match the previous entry: an entry was removed or reordered'
    },
    {
      name: 'two entries swapped',
      file: 2,
      tamper: lines => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)],
      line: 2,
      seq: 13,
      reason: 'prev_hash does not match the previous entry: an entry was removed or reordered'
    },
    {
      name: 'the last line truncated',
      file: 2,
      tamper: lines => [...lines.slice(0, -1), lines.at(-1)!.slice(0, 100)],
      ending: '',
      line: 5,
      seq: 15,
      reason: 'line is not JSON (truncated?)'
    },
    {
      name: 'an entry edited inside the gzipped file',
      file: 0,
      tamper: lines => lines.map((line, i) => i === 3 ? line.replace('kb.put', 'kb.get') : line),
      line: 4,
      seq: 4,
      reason: 'hash does not match the entry\'s content: the entry was changed'
    },
    {
      name: 'an entry edited with its hash recomputed',
      file: 1,
      tamper: lines => lines.map((line, i) => {
        if (i !== 0) return line
        const body = line.slice(0, -75).replace('doc-6', 'doc-666')
        return `${body},"hash":"${sha256(body + '}')}"}`
      }),
      line: 2,
      seq: 7,
      reason: 'prev_hash does not match the previous entry: an entry was removed or reordered'
    },
    {
      name: 'an entry added by hand',
      file: 1,
      tamper: lines => [...lines.slice(0, 2), auditLine(100), ...lines.slice(2)],
      line: 3,
      seq: 8,
      reason: 'the entry has no hash: it was not written through the audit chain'
    },
    {
      name: 'an empty line inside a file',
      file: 1,
      tamper: lines => [...lines.slice(0, 2), '', ...lines.slice(2)],
      line: 3,
      seq: 8,
      reason: 'empty line inside the file: something was removed or inserted there'
    },
    {
      name: 'the chain fields moved by re-serialising',
      file: 1,
      tamper: lines => lines.map((line, i) => {
        if (i !== 1) return line
        const { hash, ...rest } = JSON.parse(line) as Record<string, unknown>
        return JSON.stringify({ hash, ...rest })
      }),
      line: 2,
      seq: 7,
      reason: 'seq, prev_hash and hash are not the last fields as written: the entry was rewritten'
    }
  ]
  for (const c of cases) {
    t.test(c.name, async t => {
      const { dir, paths } = await chainedLogDir(t)
      await editFile(paths[c.file]!, c.tamper, c.ending)
      const report = await verifyAuditChain([dir])
      t.same(report.break, { file: paths[c.file], line: c.line, seq: c.seq, reason: c.reason })
      t.equal(report.intact, false)
      t.equal(report.filesChecked, c.file + 1)
      t.equal(report.entriesChecked, c.file * PER_FILE + c.line - 1)
    })
  }
})

t.test('a deleted middle file breaks the chain at the first line of the next one', async t => {
  const { dir, paths } = await chainedLogDir(t)
  await unlink(paths[1]!)
  t.match(await verifyAuditChain([dir]), {
    intact: false,
    filesChecked: 2,
    entriesChecked: 5,
    break: { file: paths[2], line: 1, seq: 11, reason: 'prev_hash does not match the previous entry: an entry was removed or reordered' }
  })
})

t.test('empty lines are tolerated only as the last line of a file', async t => {
  const { dir, paths } = await chainedLogDir(t)
  await editFile(paths[1]!, lines => [...lines, ''])
  t.match(await verifyAuditChain([dir]), { intact: true, entriesChecked: 15 })
  await editFile(paths[1]!, lines => [...lines, ''])
  t.match(await verifyAuditChain([dir]), { intact: false, break: { file: paths[1], line: 6, seq: 11 } })
})

t.test('a gzipped file cut short is reported after its last readable line', async t => {
  const { dir, paths } = await chainedLogDir(t)
  const data = await readFile(paths[0]!)
  await writeFile(paths[0]!, data.subarray(0, data.length - 8))
  t.match(await verifyAuditChain([dir]), {
    intact: false,
    break: { file: paths[0], line: 6, seq: 6, reason: /^the compressed file cannot be read past this line \(unexpected end of file\)/ }
  })
})

t.test('a chain whose first files were removed passes and says where it starts', async t => {
  const { dir, paths, state } = await chainedLogDir(t)
  await unlink(paths[0]!)
  t.same(await verifyAuditChain([dir]), {
    intact: true,
    files: paths.slice(1),
    filesChecked: 2,
    entriesChecked: 10,
    start: { file: paths[1], line: 1, seq: 6, genesis: false },
    end: state,
    break: null
  })
})

t.test('a first entry claiming the genesis with the wrong seq, or seq 1 without it, is broken', async t => {
  const dir = await tempDir(t)
  const file = join(dir, 'audit.2026-11-19.1.log')
  await writeLogFile(file, [chainAuditLine(auditLine(1), { seq: 6, hash: GENESIS_HASH }).line])
  t.match(await verifyAuditChain([file]), { intact: false, break: { line: 1, seq: 7, reason: /genesis hash but seq is 7/ } })
  await writeLogFile(file, [chainAuditLine(auditLine(1), { seq: 0, hash: 'a'.repeat(64) }).line])
  t.match(await verifyAuditChain([file]), { intact: false, break: { line: 1, seq: 1, reason: /seq is 1 but prev_hash is not the genesis hash/ } })
})

t.test('a file both compressed and not (janitor interrupted) is read once', async t => {
  const { dir, paths } = await chainedLogDir(t)
  await writeLogFile(paths[1]! + '.gz', await readLogFile(paths[1]!))
  t.match(await verifyAuditChain([dir]), { intact: true, files: paths, entriesChecked: 15 })
})

t.test('files named outside the layout are checked in the order given', async t => {
  const { paths } = await chainedLogDir(t)
  const dir = await tempDir(t)
  const copies = await Promise.all(paths.map(async (path, i) => {
    const copy = join(dir, `export-${3 - i}.jsonl`)
    await writeLogFile(copy, await readLogFile(path))
    return copy
  }))
  t.match(await verifyAuditChain(copies), { intact: true, entriesChecked: 15 })
  t.match(await verifyAuditChain([...copies].reverse()), { intact: false, break: { file: copies[1], line: 1 } })
})

t.test('paths that cannot be verified reject with AuditPathError', async t => {
  const { dir } = await chainedLogDir(t)
  const empty = await tempDir(t)
  await t.rejects(verifyAuditChain([join(dir, 'nope')]), new AuditPathError(`${join(dir, 'nope')} does not exist`))
  await t.rejects(verifyAuditChain([empty]), new AuditPathError(`${empty} holds no audit files (audit.<yyyy-MM-dd>.<n>.log or .log.gz)`))
  await t.rejects(verifyAuditChain([join(dir, 'chatbot.2026-11-20.1.log')]), { name: 'AuditPathError', message: /chatbot\.2026-11-20\.1\.log is the chatbot log, not an audit log$/ })
})

t.test('lastChainState: the writer continues the chain after a restart', async t => {
  t.test('from GENESIS without a log directory, or without audit files', async t => {
    const dir = await tempDir(t)
    t.same(await lastChainState(join(dir, 'logs')), GENESIS)
    await writeFile(join(dir, 'chatbot.2026-11-20.1.log'), '{"level":"info"}\n')
    t.same(await lastChainState(dir), GENESIS)
  })

  t.test('from the newest file\'s last entry; the continued chain verifies', async t => {
    const { dir, state } = await chainedLogDir(t)
    const resumed = await lastChainState(dir)
    t.same(resumed, state)
    const next = chainAuditLine(auditLine(16), resumed)
    await writeLogFile(join(dir, 'audit.2026-11-21.12.log'), [next.line])
    t.match(await verifyAuditChain([dir]), { intact: true, entriesChecked: 16, end: next.state })
  })

  t.test('from the last intact entry when the last line was cut short by a crash', async t => {
    const { dir, paths, lines } = await chainedLogDir(t)
    await editFile(paths[2]!, kept => [...kept.slice(0, -1), kept.at(-1)!.slice(0, -30)], '')
    const resumed = await lastChainState(dir)
    t.same(resumed, { seq: 14, hash: JSON.parse(lines[2]![3]!).hash })
    // The cut line is still reported; the entries written after the restart link past it.
    const next = chainAuditLine(auditLine(15), resumed)
    await writeLogFile(join(dir, 'audit.2026-11-21.12.log'), [next.line])
    t.match(await verifyAuditChain([dir]), { intact: false, entriesChecked: 14, break: { file: paths[2], line: 5, reason: 'line is not JSON (truncated?)' } })
    t.match(await verifyAuditChain([join(dir, 'audit.2026-11-21.12.log')]), { intact: true, start: { seq: 15, genesis: false } })
  })

  t.test('from the entry appended to a cut line, as when the writer reopens the same file', async t => {
    const { dir, paths, lines } = await chainedLogDir(t)
    const cut = lines[2]!.at(-1)!.slice(0, -30)
    const next = chainAuditLine(auditLine(16), { seq: 15, hash: JSON.parse(lines[2]!.at(-1)!).hash })
    await editFile(paths[2]!, kept => [...kept.slice(0, -1), cut + next.line])
    t.same(await lastChainState(dir), next.state)
  })

  t.test('from an older file when the newest has no entry yet, and through gzip', async t => {
    const { dir, paths, lines, state } = await chainedLogDir(t)
    await writeFile(join(dir, 'audit.2026-11-21.12.log'), '')
    t.same(await lastChainState(dir), state)

    await unlink(paths[1]!)
    await unlink(paths[2]!)
    t.same(await lastChainState(dir), { seq: 5, hash: JSON.parse(lines[0]!.at(-1)!).hash })
  })
})
