// Writing documents in slices: the event loop is let go between them (on PGlite the database runs
// on this thread), a batch stays all or nothing, and a replaced document keeps only its new passages.
import t from 'tap'
import { KnowledgeBase } from '../../../src/kb/knowledge-base.js'
import { SearchEngine } from '../../../src/search/search-engine.js'
import { AuditTrail } from '../../../src/audit/audit-trail.js'
import { ConflictError } from '../../../src/errors.js'
import { engines } from '../../helper.js'

const document = (i: number) => ({ id: `doc-${i}`, title: `Document ${i}`, text: Array.from({ length: 20 }, (_, p) => `## Part ${p}\n\nRefunds are paid within ${i} days of a return.`).join('\n\n') })

for (const engine of engines()) {
  t.test(`on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const searchEngine = new SearchEngine()
    const kb = new KnowledgeBase({ db, searchEngine, auditTrail: new AuditTrail({ db }) })

    await t.test('a large import lets the event loop turn between its slices', async t => {
      let turns = 0
      let running = true
      const spin = (): void => { if (running) { turns++; setImmediate(spin) } }
      setImmediate(spin)
      await kb.add(Array.from({ length: 200 }, (_, i) => document(i)), 'test')
      running = false
      t.ok(turns >= 10, `other work ran ${turns} times during the import`)
      t.equal(searchEngine.documentIds().length, 200, 'every document is searchable')
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM kb_passages')
      t.equal(rows[0]!.n, 200 * 20)
    })

    await t.test('a batch with a taken id is refused whole, naming the id, even past its first slice', async t => {
      const batch = [...Array.from({ length: 45 }, (_, i) => ({ ...document(i), id: `batch-${i}` })), document(7)]
      const error = await kb.add(batch, 'test').catch((error: unknown) => error)
      t.ok(error instanceof ConflictError)
      t.match((error as ConflictError).message, /Document doc-7 already exists/)
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM kb_documents WHERE id LIKE 'batch-%'")
      t.equal(rows[0]!.n, 0, 'nothing of it is kept')
    })

    await t.test('a replaced document keeps its new passages only', async t => {
      t.same(await kb.put('doc-3', { title: 'Three', text: 'One paragraph now.' }, 'test'), { created: false })
      const { rows } = await db.query<{ text: string }>("SELECT text FROM kb_passages WHERE document_id = 'doc-3'")
      t.same(rows.map(row => row.text), ['One paragraph now.'])
      t.same(await kb.put('doc-new', { title: 'New', text: 'Fresh.' }, 'test'), { created: true })
    })

    await t.test('a put that replaces a document of another collection names it', async t => {
      t.same(await kb.put('guide', { title: 'Guide', text: 'Ours.', collection: 'parley' }, 'test'), { created: true })
      t.same(await kb.put('guide', { title: 'Guide', text: 'Theirs.' }, 'test'), { created: false, movedFrom: 'parley' })
      t.same(await kb.put('guide', { title: 'Guide', text: 'Theirs again.' }, 'test'), { created: false }, 'same collection')
      const { rows } = await db.query<{ details: { moved_from?: string } | null }>(
        "SELECT details FROM audit_events WHERE target = 'guide' ORDER BY id")
      t.same(rows.map(row => row.details?.moved_from), [undefined, 'parley', undefined], 'the audit entry says so')
    })
  })
}
