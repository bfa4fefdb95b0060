// The knowledge base lives in the database (the source of truth, shared by all instances) and is
// mirrored into the in-memory search index. Changes made here update this instance's index after
// commit; other instances hear of them through PostgreSQL NOTIFY and reload the changed documents.
import { randomUUID } from 'node:crypto'
import type { Database, Queryable } from '../db/database.js'
import { ConflictError, NotFoundError } from '../errors.js'
import { splitIntoPassages, type Passage } from '../search/passages.js'
import type { SearchEngine } from '../search/search-engine.js'

export const KB_CHANNEL = 'parley_kb_changes'
// NOTIFY payloads are limited to 8000 bytes; ids are at most 200 characters.
const IDS_PER_NOTIFICATION = 30

export interface DocumentInput {
  id?: string
  title: string
  text: string
  metadata?: Record<string, unknown>
}

export interface KbDocument {
  id: string
  title: string
  text: string
  metadata: Record<string, unknown>
  passages: number
  createdAt: Date
  updatedAt: Date
}

interface DocumentRow {
  id: string
  title: string
  body: string
  metadata: Record<string, unknown>
  passages: number
  created_at: Date
  updated_at: Date
}

export class KnowledgeBase {
  readonly searchEngine: SearchEngine
  private readonly db: Database
  private readonly now: () => Date
  private readonly instanceId = randomUUID()

  constructor (options: { db: Database, searchEngine: SearchEngine, now?: () => Date }) {
    this.db = options.db
    this.searchEngine = options.searchEngine
    this.now = options.now ?? (() => new Date())
  }

  /** Builds the in-memory index from every stored passage. Returns the number of documents. */
  async loadIndex (): Promise<number> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM kb_documents')
    await this.refresh(rows.map(row => row.id))
    return rows.length
  }

  /** Adds new documents atomically: a batch with a taken or repeated id is refused whole. */
  async add (inputs: DocumentInput[]): Promise<string[]> {
    const ids = inputs.map(input => input.id ?? randomUUID())
    const repeated = ids.find((id, index) => ids.indexOf(id) !== index)
    if (repeated !== undefined) throw new ConflictError(`Document id ${repeated} appears more than once in the request.`, { id: repeated })
    await this.db.transaction(async tx => {
      const { rows } = await tx.query<{ id: string }>('SELECT id FROM kb_documents WHERE id = ANY($1::text[]) LIMIT 1', [ids])
      if (rows[0] !== undefined) throw new ConflictError(`Document ${rows[0].id} already exists; use PUT /v1/kb/documents/${rows[0].id} to replace it.`, { id: rows[0].id })
      for (const [index, input] of inputs.entries()) await this.write(tx, ids[index]!, input)
      await this.notify(tx, ids)
    })
    await this.refresh(ids)
    return ids
  }

  /** Creates or replaces one document; true if it was created. */
  async put (id: string, input: Omit<DocumentInput, 'id'>): Promise<boolean> {
    const created = await this.db.transaction(async tx => {
      const created = await this.write(tx, id, input)
      await this.notify(tx, [id])
      return created
    })
    await this.refresh([id])
    return created
  }

  /**
   * Loads the bundled documents the first time any instance starts on a database, and never
   * again: an operator who deletes them must not see them come back.
   */
  async seedOnce (load: () => Promise<DocumentInput[]>): Promise<number> {
    const ids = await this.db.transaction(async tx => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.kb-seed'))")
      const { rowCount } = await tx.query("INSERT INTO app_state (key, value) VALUES ('kb_seeded_at', to_jsonb(now())) ON CONFLICT DO NOTHING")
      if (rowCount === 0) return []
      const inputs = await load()
      const ids = inputs.map(input => input.id ?? randomUUID())
      for (const [index, input] of inputs.entries()) await this.write(tx, ids[index]!, input)
      await this.notify(tx, ids)
      return ids
    })
    await this.refresh(ids)
    return ids.length
  }

  async delete (id: string): Promise<boolean> {
    const deleted = await this.db.transaction(async tx => {
      const { rowCount } = await tx.query('DELETE FROM kb_documents WHERE id = $1', [id])
      if (rowCount > 0) await this.notify(tx, [id])
      return rowCount > 0
    })
    if (deleted) this.searchEngine.remove(id)
    return deleted
  }

  async get (id: string): Promise<KbDocument> {
    const { rows } = await this.db.query<DocumentRow>(
      `SELECT d.*, (SELECT count(*)::int FROM kb_passages p WHERE p.document_id = d.id) AS passages
       FROM kb_documents d WHERE d.id = $1`, [id])
    const row = rows[0]
    if (row === undefined) throw new NotFoundError('Document', id)
    return { id: row.id, title: row.title, text: row.body, metadata: row.metadata, passages: row.passages, createdAt: row.created_at, updatedAt: row.updated_at }
  }

  /** Keeps this instance's index in step with changes other instances make. */
  async followChanges (): Promise<() => Promise<void>> {
    return await this.db.listen(KB_CHANNEL, payload => {
      let change: { instance?: string, ids?: string[] }
      try {
        change = JSON.parse(payload)
      } catch {
        return
      }
      if (change.instance !== this.instanceId && Array.isArray(change.ids)) {
        this.refresh(change.ids).catch(() => {}) // a missed refresh heals at the next change or restart
      }
    })
  }

  /** Re-reads documents from the database into the index; ids no longer stored are dropped. */
  async refresh (ids: string[]): Promise<void> {
    if (ids.length === 0) return
    const { rows } = await this.db.query<{ id: string, title: string, passages: Passage[] }>(
      `SELECT d.id, d.title, coalesce(json_agg(json_build_object('ordinal', p.ordinal, 'heading', p.heading, 'text', p.text)
         ORDER BY p.ordinal) FILTER (WHERE p.document_id IS NOT NULL), '[]') AS passages
       FROM kb_documents d LEFT JOIN kb_passages p ON p.document_id = d.id
       WHERE d.id = ANY($1::text[]) GROUP BY d.id, d.title`, [ids])
    const found = new Set<string>()
    for (const row of rows) {
      found.add(row.id)
      this.searchEngine.upsert({ id: row.id, title: row.title, passages: row.passages.map(p => ({ ...p, heading: p.heading ?? undefined })) })
    }
    for (const id of ids) if (!found.has(id)) this.searchEngine.remove(id)
  }

  /** Inserts or replaces a document and its passages; true if it was new. */
  private async write (tx: Queryable, id: string, input: Omit<DocumentInput, 'id'>): Promise<boolean> {
    const { rows } = await tx.query<{ created: boolean }>(
      `INSERT INTO kb_documents (id, title, body, metadata, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, metadata = excluded.metadata, updated_at = excluded.updated_at
       RETURNING (xmax = 0) AS created`,
      [id, input.title, input.text, JSON.stringify(input.metadata ?? {}), this.now()])
    await tx.query('DELETE FROM kb_passages WHERE document_id = $1', [id])
    const passages = splitIntoPassages(input.text)
    if (passages.length > 0) {
      // One multi-row insert per document keeps a 1,000-document import to a few thousand statements.
      const values = passages.map((_, i) => `($1, $${i * 3 + 2}, $${i * 3 + 3}, $${i * 3 + 4})`).join(', ')
      await tx.query(`INSERT INTO kb_passages (document_id, ordinal, heading, text) VALUES ${values}`,
        [id, ...passages.flatMap(p => [p.ordinal, p.heading ?? null, p.text])])
    }
    return rows[0]!.created
  }

  private async notify (tx: Queryable, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += IDS_PER_NOTIFICATION) {
      await tx.query('SELECT pg_notify($1, $2)', [KB_CHANNEL, JSON.stringify({ instance: this.instanceId, ids: ids.slice(i, i + IDS_PER_NOTIFICATION) })])
    }
  }
}
