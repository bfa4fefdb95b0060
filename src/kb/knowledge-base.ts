// The knowledge base lives in the database (the source of truth, shared by all instances) and is
// mirrored into the in-memory search index. Changes made here update this instance's index after
// commit; other instances hear of them through PostgreSQL NOTIFY and reload the changed documents.
import { randomUUID } from 'node:crypto'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { AuditTrail } from '../audit/audit-trail.js'
import type { Database, Queryable } from '../db/database.js'
import { ConflictError, InvalidFieldError, NotFoundError } from '../errors.js'
import { splitIntoPassages, type Passage } from '../search/passages.js'
import { metadataProblem, type DocumentInput } from './document-files.js'
import { DEFAULT_COLLECTION, type SearchEngine } from '../search/search-engine.js'

export const KB_CHANNEL = 'parley_kb_changes'
// NOTIFY payloads are limited to 8000 bytes; ids are at most 200 characters.
const IDS_PER_NOTIFICATION = 30
const UNIQUE_VIOLATION = '23505'
// Documents written or indexed between two turns of the event loop: at most a few tens of ms.
const DOCUMENTS_PER_STATEMENT = 20
// How long splitting documents into passages may hold the event loop before letting it go.
const SLICE_MS = 10

interface SplitDocument extends Omit<DocumentInput, 'id'> { id: string, passages: Passage[] }

/** Documents with their passages, split with the event loop let go every SLICE_MS. */
async function split (documents: Array<Omit<DocumentInput, 'id'> & { id: string }>): Promise<SplitDocument[]> {
  const done: SplitDocument[] = []
  let since = performance.now()
  for (const document of documents) {
    if (performance.now() - since > SLICE_MS) {
      await yieldToLoop()
      since = performance.now()
    }
    done.push({ ...document, passages: splitIntoPassages(document.text) })
  }
  return done
}

/** The collection of the docs Parley ships and seeds: Parley answering questions about itself. */
export const BUNDLED_COLLECTION = 'parley'

/** What a put did: created the document, or replaced one that was in `movedFrom` when that was another collection. */
export interface PutOutcome { created: boolean, movedFrom?: string }

/** A document written: whether it was new, and the other collection it was in before, if it was in another. */
interface Written { created: boolean, movedFrom: string | null }

/**
 * Which collections answer chat questions. The bundled docs answer while nothing else is in the
 * knowledge base ('auto'): once a team imports its own documents, questions about its product
 * are not answered from Parley's manual. 'always' keeps them competing; 'never' leaves them out.
 * Undefined: every collection.
 */
export function answeringCollections (
  collections: ReadonlyMap<string, number>,
  bundled: 'auto' | 'always' | 'never'
): ReadonlySet<string> | undefined {
  if (bundled === 'always') return undefined
  const own = new Set([...collections.keys()].filter(name => name !== BUNDLED_COLLECTION))
  return own.size === 0 && bundled === 'auto' ? undefined : own
}

export interface KbDocument {
  id: string
  title: string
  text: string
  metadata: Record<string, unknown>
  collection: string
  passages: number
  createdAt: Date
  updatedAt: Date
}

export type DocumentSummary = Omit<KbDocument, 'text' | 'metadata' | 'passages'>

interface DocumentRow {
  id: string
  title: string
  body: string
  metadata: Record<string, unknown>
  collection: string
  passages: number
  created_at: Date
  updated_at: Date
}

export class KnowledgeBase {
  readonly searchEngine: SearchEngine
  private readonly db: Database
  private readonly auditTrail: AuditTrail
  private readonly now: () => Date
  private readonly instanceId = randomUUID()
  // Index updates run one at a time, so an older read of a document never lands after a newer one.
  private indexUpdates: Promise<unknown> = Promise.resolve()

  constructor (options: { db: Database, searchEngine: SearchEngine, auditTrail: AuditTrail, now?: () => Date }) {
    this.db = options.db
    this.searchEngine = options.searchEngine
    this.auditTrail = options.auditTrail
    this.now = options.now ?? (() => new Date())
  }

  /** When the index was last built whole from the database (for /ready); undefined until then. */
  indexLoadedAt: Date | undefined

  /** (Re)builds the in-memory index from every stored document. Returns the number of documents. */
  async loadIndex (): Promise<number> {
    return await this.updateIndex(async () => {
      const { rows } = await this.db.query<{ id: string }>('SELECT id FROM kb_documents')
      const stored = new Set(rows.map(row => row.id))
      for (const id of this.searchEngine.documentIds()) if (!stored.has(id)) this.searchEngine.remove(id)
      await this.reindex([...stored])
      this.indexLoadedAt = this.now()
      return stored.size
    })
  }

  /** Adds new documents atomically: a batch with a taken or repeated id is refused whole. */
  async add (inputs: DocumentInput[], actor: string): Promise<string[]> {
    const ids = inputs.map(input => input.id ?? randomUUID())
    const repeated = ids.find((id, index) => ids.indexOf(id) !== index)
    if (repeated !== undefined) {
      throw new ConflictError(`Document id ${repeated} appears more than once in the request.`, { id: repeated })
    }
    const documents = await split(inputs.map((input, index) => ({ ...input, id: ids[index]! })))
    await this.auditTrail.transaction(this.db, async (tx, audit) => {
      await this.write(tx, documents, 'insert')
      await audit({
        actor,
        action: 'kb.documents.add',
        target: ids.length === 1 ? ids[0]! : `${ids.length} documents`,
        result: 'success',
        details: { ids: ids.slice(0, 100) }
      })
      await this.notify(tx, ids)
    })
    await this.refresh(ids)
    return ids
  }

  /**
   * Creates or replaces one document. A replaced document may have been in another collection (an
   * import whose id is one of the bundled guide's): `movedFrom` names it, so that the caller can say
   * so rather than report a plain replace.
   */
  async put (id: string, input: Omit<DocumentInput, 'id'>, actor: string): Promise<PutOutcome> {
    const documents = await split([{ ...input, id }])
    const outcome = await this.auditTrail.transaction(this.db, async (tx, audit) => {
      const [{ created, movedFrom }] = await this.write(tx, documents, 'upsert') as [Written]
      await audit({
        actor,
        action: created ? 'kb.document.create' : 'kb.document.replace',
        target: id,
        result: 'success',
        ...(movedFrom === null ? {} : { details: { moved_from: movedFrom } })
      })
      await this.notify(tx, [id])
      return movedFrom === null ? { created } : { created, movedFrom }
    })
    await this.refresh([id])
    return outcome
  }

  /**
   * Adds a phrasing users type to a document's `metadata.questions`, searched with its title, unless
   * it is there already: how a team closes the gap between its FAQ's words and its users' words.
   */
  async addQuestion (id: string, question: string, actor: string): Promise<{ questions: string[], added: boolean }> {
    const phrasing = question.trim()
    const result = await this.auditTrail.transaction(this.db, async (tx, audit) => {
      const { rows } = await tx.query<{ metadata: Record<string, unknown> }>(
        'SELECT metadata FROM kb_documents WHERE id = $1 FOR UPDATE', [id])
      if (rows[0] === undefined) throw new NotFoundError('Document', id)
      const { metadata } = rows[0]
      const questions = Array.isArray(metadata.questions) ? metadata.questions as string[] : []
      if (questions.some(known => known.trim().toLowerCase() === phrasing.toLowerCase())) {
        return { questions, added: false }
      }
      const next = { ...metadata, questions: [...questions, phrasing] }
      const problem = metadataProblem(next)
      if (problem !== undefined) {
        throw new InvalidFieldError('body/question', `cannot be added to document ${id}: its ${problem}`)
      }
      await tx.query(
        'UPDATE kb_documents SET metadata = $2, updated_at = $3 WHERE id = $1',
        [id, JSON.stringify(next), this.now()]
      )
      await audit({ actor, action: 'kb.document.question_add', target: id, result: 'success' })
      await this.notify(tx, [id])
      return { questions: next.questions, added: true }
    })
    if (result.added) await this.refresh([id])
    return result
  }

  async delete (id: string, actor: string): Promise<boolean> {
    const deleted = await this.auditTrail.transaction(this.db, async (tx, audit) => {
      const { rowCount } = await tx.query('DELETE FROM kb_documents WHERE id = $1', [id])
      if (rowCount === 0) return false
      await audit({ actor, action: 'kb.document.delete', target: id, result: 'success' })
      await this.notify(tx, [id])
      return true
    })
    if (deleted) await this.refresh([id])
    return deleted
  }

  /**
   * Loads the bundled documents the first time any instance starts on a database, and never
   * again: an operator who deletes them must not see them come back. Call loadIndex() after.
   */
  async seedOnce (load: () => Promise<DocumentInput[]>): Promise<number> {
    return await this.db.transaction(async tx => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.kb-seed'))")
      const { rowCount } = await tx.query(
        "INSERT INTO app_state (key, value) VALUES ('kb_seeded_at', to_jsonb(now())) ON CONFLICT DO NOTHING"
      )
      if (rowCount === 0) return 0
      const inputs = await load()
      const bundled = inputs.map(input => ({ ...input, id: input.id ?? randomUUID(), collection: BUNDLED_COLLECTION }))
      await this.write(tx, await split(bundled), 'upsert')
      return inputs.length
    })
  }

  /**
   * The documents in order of id, after `after` (the last id of the previous page), up to `limit`,
   * without their text: what a team reads to find an id (an evaluation's expected document, a page
   * to change) among thousands.
   */
  async list (page: { collection?: string, after?: string, limit: number }): Promise<DocumentSummary[]> {
    const { rows } = await this.db.query<Omit<DocumentRow, 'body' | 'metadata' | 'passages'>>(
      `SELECT id, title, collection, created_at, updated_at FROM kb_documents
       WHERE ($1::text IS NULL OR collection = $1) AND ($2::text IS NULL OR id > $2)
       ORDER BY id LIMIT $3`, [page.collection ?? null, page.after ?? null, page.limit])
    return rows.map(row => ({
      id: row.id,
      title: row.title,
      collection: row.collection,
      createdAt: row.created_at,
      updatedAt: row.updated_at
    }))
  }

  async get (id: string): Promise<KbDocument> {
    const { rows } = await this.db.query<DocumentRow>(
      `SELECT d.*, (SELECT count(*)::int FROM kb_passages p WHERE p.document_id = d.id) AS passages
       FROM kb_documents d WHERE d.id = $1`, [id])
    const row = rows[0]
    if (row === undefined) throw new NotFoundError('Document', id)
    return {
      id: row.id,
      title: row.title,
      text: row.body,
      metadata: row.metadata,
      collection: row.collection,
      passages: row.passages,
      createdAt: row.created_at,
      updatedAt: row.updated_at
    }
  }

  /**
   * Keeps this instance's index in step with changes other instances make. Call it before
   * loadIndex(), so no change committed in between is missed; a lost subscription reloads all.
   */
  async followChanges (onError: (error: unknown) => void): Promise<() => Promise<void>> {
    return await this.db.listen(KB_CHANNEL, payload => {
      let change: { instance?: string, ids?: string[] }
      try {
        change = JSON.parse(payload)
      } catch {
        return
      }
      if (change.instance !== this.instanceId && Array.isArray(change.ids)) this.refresh(change.ids).catch(onError)
    }, () => { this.loadIndex().catch(onError) })
  }

  /** Re-reads documents from the database into the index; ids no longer stored are dropped. */
  async refresh (ids: string[]): Promise<void> {
    await this.updateIndex(() => this.reindex(ids))
  }

  private updateIndex<T> (update: () => Promise<T>): Promise<T> {
    const run = this.indexUpdates.then(update)
    this.indexUpdates = run.catch(() => {})
    return run
  }

  private async reindex (all: string[]): Promise<void> {
    for (let start = 0; start < all.length; start += DOCUMENTS_PER_STATEMENT) {
      if (start > 0) await yieldToLoop()
      await this.reindexSlice(all.slice(start, start + DOCUMENTS_PER_STATEMENT))
    }
  }

  private async reindexSlice (ids: string[]): Promise<void> {
    const { rows } = await this.db.query<{
      id: string
      title: string
      collection: string
      questions: unknown
      passages: Passage[]
    }>(
      `SELECT d.id, d.title, d.collection, d.metadata->'questions' AS questions,
         coalesce(json_agg(json_build_object('ordinal', p.ordinal, 'heading', p.heading, 'text', p.text)
         ORDER BY p.ordinal) FILTER (WHERE p.document_id IS NOT NULL), '[]') AS passages
       FROM kb_documents d LEFT JOIN kb_passages p ON p.document_id = d.id
       WHERE d.id = ANY($1::text[]) GROUP BY d.id, d.title, d.collection, d.metadata`, [ids])
    const found = new Set<string>()
    for (const row of rows) {
      found.add(row.id)
      const questions = Array.isArray(row.questions) ? row.questions : undefined
      this.searchEngine.upsert({
        id: row.id,
        title: row.title,
        collection: row.collection,
        questions,
        passages: row.passages.map(p => ({ ...p, heading: p.heading ?? undefined }))
      })
    }
    for (const id of ids) if (!found.has(id)) this.searchEngine.remove(id)
  }

  /**
   * Inserts (or, with 'upsert', replaces) documents and their passages, a slice at a time with the
   * event loop let go between slices; for each, whether it was new and the other collection it was in.
   * On PGlite the database runs on this thread: one statement for 1,000 documents held every other
   * request for seconds.
   */
  private async write (tx: Queryable, documents: SplitDocument[], mode: 'insert' | 'upsert'): Promise<Written[]> {
    const upsert = mode === 'upsert'
      ? 'ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, metadata = excluded.metadata, ' +
        'collection = excluded.collection, updated_at = excluded.updated_at'
      : ''
    const now = this.now()
    const written: Written[] = []
    for (let start = 0; start < documents.length; start += DOCUMENTS_PER_STATEMENT) {
      if (start > 0) await yieldToLoop()
      const slice = documents.slice(start, start + DOCUMENTS_PER_STATEMENT)
      let rows: Array<{ id: string, created: boolean, moved_from: string | null }>
      try {
        // Arrays as parameters: a slice of any size is one statement, its passages another.
        // `previous` reads the rows as they were before the statement: it has one snapshot.
        ({ rows } = await tx.query<{ id: string, created: boolean, moved_from: string | null }>(
          `WITH previous AS (SELECT id, collection FROM kb_documents WHERE id = ANY($1::text[]))
           INSERT INTO kb_documents (id, title, body, metadata, collection, created_at, updated_at)
           SELECT id, title, body, metadata::jsonb, collection, $6, $6
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
             AS d(id, title, body, metadata, collection)
           ${upsert} RETURNING id, (xmax = 0) AS created,
             (SELECT collection FROM previous
              WHERE previous.id = kb_documents.id AND previous.collection <> kb_documents.collection) AS moved_from`,
          [
            slice.map(d => d.id),
            slice.map(d => d.title),
            slice.map(d => d.text),
            slice.map(d => JSON.stringify(d.metadata ?? {})),
            slice.map(d => d.collection ?? DEFAULT_COLLECTION),
            now
          ]))
      } catch (error) {
        // The unique key, not a prior SELECT, decides: concurrent adds of one id cannot both succeed.
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error
        const detail = (error as { detail?: string }).detail ?? ''
        const id = /\(id\)=\((.*)\) already exists/.exec(detail)?.[1] ?? slice[0]!.id
        throw new ConflictError(
          `Document ${id} already exists; use PUT /v1/kb/documents/${id} to replace it.`,
          { id }
        )
      }
      const byId = new Map(rows.map(row =>
        [row.id, { created: row.created, movedFrom: row.moved_from }]))
      const replaced = slice.filter(d => byId.get(d.id)?.created === false).map(d => d.id)
      if (replaced.length > 0) await tx.query('DELETE FROM kb_passages WHERE document_id = ANY($1::text[])', [replaced])
      const passages = slice.flatMap(d => d.passages.map(p => ({ id: d.id, ...p })))
      await tx.query(
        `INSERT INTO kb_passages (document_id, ordinal, heading, text)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[])`,
        [
          passages.map(p => p.id),
          passages.map(p => p.ordinal),
          passages.map(p => p.heading ?? null),
          passages.map(p => p.text)
        ])
      written.push(...slice.map(d => byId.get(d.id)!))
    }
    return written
  }

  private async notify (tx: Queryable, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += IDS_PER_NOTIFICATION) {
      const payload = JSON.stringify({ instance: this.instanceId, ids: ids.slice(i, i + IDS_PER_NOTIFICATION) })
      await tx.query('SELECT pg_notify($1, $2)', [KB_CHANNEL, payload])
    }
  }
}
