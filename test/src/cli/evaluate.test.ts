import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { main } from '../../../src/cli/evaluate.js'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { openDatabase } from '../../../src/db/open-database.js'
import { KnowledgeBase } from '../../../src/kb/knowledge-base.js'
import { SearchEngine } from '../../../src/search/search-engine.js'
import { buildTestApp, cliDatabase, collector, tempDir } from '../../helper.js'

const DOCUMENTS = [
  { id: 'refunds', title: 'Refunds', text: 'You can request a refund within 30 days of purchase by writing to the support team with your order number.' },
  { id: 'shipping', title: 'Shipping', text: 'Parcels are shipped within two business days and tracked with the tracking number sent by e-mail.' }
]
const LINES = [
  { question: 'How do I request a refund of my purchase?', expected: 'refunds', id: 'refund' },
  { question: 'When are parcels shipped?', expected: 'refunds' },
  { question: 'What will the weather be like on Mars next year?', expected: null }
]

async function questionFile (t: Test, lines: unknown[] = LINES): Promise<string> {
  const file = join(await tempDir(t), 'questions.jsonl')
  await writeFile(file, lines.map(line => typeof line === 'string' ? line : JSON.stringify(line)).join('\n') + '\n')
  return file
}

const run = async (argv: string[], env: Record<string, string>) => {
  const stdout = collector()
  const stderr = collector()
  const code = await main(argv, env, { stdout: stdout.stream, stderr: stderr.stream })
  return { code, stdout: stdout.text(), stderr: stderr.text() }
}

t.test('--url: the file runs through a running server, a table question by question, then the totals', async t => {
  const admin = randomBytes(16).toString('hex')
  const analyst = randomBytes(16).toString('hex')
  const app = await buildTestApp(t, { API_KEYS: `${admin}:admin,${analyst}:analyst`, KB_SEED_DIR: '' })
  await app.knowledgeBase.add(DOCUMENTS, 'test')
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const file = await questionFile(t)

  const text = await run(['--url', base, file], { PARLEY_API_KEY: admin })
  t.equal(text.code, 0, text.stderr)
  t.equal(text.stderr, `Running 3 questions against the server at ${base}.\n`)
  const lines = text.stdout.split('\n')
  t.match(lines[0], /^#\s+outcome\s+expected\s+answered from\s+conf\.\s+question$/)
  t.match(lines[1], /^1\s+answered right\s+refunds\s+refunds\s+[01]\.\d\d\s+\[refund\] How do I request a refund/)
  t.match(lines[2], /^2\s+wrong document\s+refunds\s+shipping\s+/)
  t.match(lines[3], /^3\s+refused, out of scope\s+none\s+\(no answer\)\s+/)
  t.match(text.stdout, '3 questions against 2 documents: 1 answered right, 1 wrong document, 0 refused but answerable, 1 out of scope and refused.')
  t.match(text.stdout, 'Accuracy 66.7 % (answered right and out of scope refused, of all); answer rate 100.0 % of the 2 answerable.')

  const json = await run(['--url', base, '--format', 'json', file], { PARLEY_API_KEY: admin })
  t.equal(json.code, 0)
  t.equal(json.stderr, '', 'nothing but the JSON')
  const report = JSON.parse(json.stdout)
  t.match(report, { questions: 3, accuracy: 2 / 3, counts: { answered_right: 1, wrong_document: 1, out_of_scope_refused: 1 } })
  t.equal((await app.kbEvaluations.store.listRuns(10)).length, 2, 'both runs stored by the server')
  const one = await run(['--url', base, await questionFile(t, LINES.slice(0, 1))], { PARLEY_API_KEY: admin })
  t.equal(one.stderr, `Running 1 question against the server at ${base}.\n`, 'one question, said so')

  const below = await run(['--url', base, '--format', 'json', '--min-accuracy', '0.8', file], { PARLEY_API_KEY: admin })
  t.equal(below.code, 1, 'below the floor: exit 1, for a team\'s CI')
  t.equal(below.stderr, 'kb:evaluate: accuracy 66.7 % is below --min-accuracy 80.0 %.\n')
  t.equal((await run(['--url', base, '--min-accuracy', '0.6', file], { PARLEY_API_KEY: admin })).code, 0)
  const typoFile = await questionFile(t, ['', LINES[1], { question: 'Where is my parcel?', expected: ['shipping', 'shiping'] }])
  t.match(await run(['--url', base, typoFile], { PARLEY_API_KEY: admin }),
    { code: 2, stderr: `kb:evaluate: ${typoFile}: line 3: expected names document "shiping"` }, 'through the server too')

  t.match(await run(['--url', base], { PARLEY_API_KEY: admin }), { code: 2, stderr: /The saved question set is empty/ }, 'without a file, the saved set')
  await app.kbEvaluations.store.addQuestions([{ id: null, question: 'When are parcels shipped?', expected: ['shipping'] }], 'test', 'api')
  t.match(await run(['--url', base], { PARLEY_API_KEY: admin }), { code: 0, stdout: /Run [0-9a-f-]{36} stored \(the saved question set\)/ })

  t.match(await run(['--url', base, file], { PARLEY_API_KEY: analyst }), { code: 2, stdout: '', stderr: /the server refused the key \(403/ })
  t.match(await run(['--url', base, file], {}), { code: 2, stderr: /PARLEY_API_KEY must hold an admin key/ })
  t.match(await run(['--url', 'not a url', file], { PARLEY_API_KEY: admin }), { code: 2, stderr: /is not a URL/ })
})

t.test('a bad file stops it before anything runs: stderr names the line and the field, exit 2', async t => {
  const file = await questionFile(t, [LINES[0], LINES[1], '', { question: 'x', expected: 42 }])
  const bad = await run([file], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' })
  t.equal(bad.code, 2)
  t.equal(bad.stdout, '')
  t.equal(bad.stderr, `kb:evaluate: ${file}: line 4: expected must be a document id, an array of 1 to 20 ids, or null (or "none") for a question out of scope\n`)
  t.match(await run([join(file, 'missing.jsonl')], {}), { code: 2, stderr: /is not a file/ })
  t.match(await run(['--format', 'xml', file], {}), { code: 2, stderr: /--format must be text or json/ })
  t.match(await run(['--min-accuracy', '80', file], {}), { code: 2, stderr: /--min-accuracy must be a number from 0 to 1/ })
  t.match(await run(['a', 'b'], {}), { code: 2, stderr: /Usage/ })
  t.match(await run(['--help'], {}), { code: 0, stdout: /Usage: npm run kb:evaluate/ })
  t.match(await run([file], { DATA_DIR: 'memory://' }), { code: 2 })
})

t.test('a DATA_DIR with no database is a wrong folder: said so, and no empty database is made there', async t => {
  const dataDir = join(await tempDir(t), 'data')
  const result = await run([await questionFile(t)], { DATA_DIR: dataDir })
  t.equal(result.code, 2)
  t.equal(result.stdout, '')
  t.match(result.stderr, `kb:evaluate: there is no database in ${dataDir} (DATA_DIR): set DATA_DIR to the server's folder or DATABASE_URL, or run it through the server`)
  t.notOk(existsSync(dataDir), 'nothing was created')
})

t.test('without --url: the configured database, its documents indexed by the command, the run stored', async t => {
  const { env, db } = await cliDatabase(t)
  await new KnowledgeBase({ db, searchEngine: new SearchEngine(), auditTrail: new AuditTrail({ db }) }).add(DOCUMENTS, 'test')
  await db.close()

  const result = await run([await questionFile(t)], env)
  t.equal(result.code, 0, result.stderr)
  t.match(result.stdout, 'Accuracy 66.7 %')
  const typoFile = await questionFile(t, [LINES[0], '', { question: 'Where is my parcel?', expected: 'shiping' }])
  const typo = await run([typoFile], env)
  t.match(typo, { code: 2, stdout: '', stderr: `kb:evaluate: ${typoFile}: line 3: expected names document "shiping", which the knowledge base does not hold` }, 'named by its line in the file, blank lines counted')
  t.notMatch(result.stdout, 'Refused but answerable:', 'no advice where nothing answerable was refused')
  const refused = await run([await questionFile(t, [{ question: 'Where did my box go?', expected: 'shipping' }])], env)
  t.match(refused.stdout, '0 answered right, 0 wrong document, 1 refused but answerable')
  t.match(refused.stdout, 'Refused but answerable: if your users word it so, add the wording to its document\'s metadata.questions',
    'what to do about it, under the totals')
  const again = await openDatabase({ databaseUrl: env.DATABASE_URL ?? '', dataDir: env.DATA_DIR ?? '', poolSize: 2 })
  t.teardown(() => again.close())
  const { rows } = await again.query<{ actor: string, questions: number }>('SELECT actor, questions FROM evaluation_runs ORDER BY started_at')
  t.same(rows, [{ actor: 'kb:evaluate', questions: 3 }, { actor: 'kb:evaluate', questions: 1 }])
  t.equal((await again.query("SELECT 1 FROM audit_events WHERE action = 'kb.evaluation.run' AND actor = 'kb:evaluate'")).rows.length, 2)
})
