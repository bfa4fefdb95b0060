// The judged retrieval collections in ../shared/datasets (BEIR layout; see its README), read the
// same way by the search and answer benchmarks. DATASETS_DIR points elsewhere.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { splitIntoPassages } from '../src/search/passages.js'
import type { SearchDocument } from '../src/search/search-engine.js'
import { projectRoot } from '../src/project.js'

export interface CorpusDoc { id: string, title: string, text: string }
/** Query id → judged document id → grade. */
export type Qrels = Map<string, Map<string, number>>

export const datasetsDir = process.env.DATASETS_DIR ?? join(projectRoot, '..', 'shared', 'datasets')

function readJsonl<T> (file: string): T[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim().length > 0).map((l) => JSON.parse(l) as T)
}

export function loadCorpus (name: string, dir = datasetsDir): CorpusDoc[] {
  return readJsonl<{ _id: string, title?: string, text?: string }>(join(dir, name, 'corpus.jsonl'))
    .map((d) => ({ id: String(d._id), title: d.title ?? '', text: d.text ?? '' }))
}

export interface QueryRecord { id: string, text: string, metadata?: Record<string, unknown> }

/** Queries in file order, with their metadata (stackfaq-dev's names its thread). */
export function loadQueryRecords (name: string, dir = datasetsDir): QueryRecord[] {
  return readJsonl<{ _id: string, text: string, metadata?: Record<string, unknown> }>(join(dir, name, 'queries.jsonl'))
    .map((q) => ({ id: String(q._id), text: q.text, metadata: q.metadata }))
}

export function loadQueries (name: string): Map<string, string> {
  return new Map(loadQueryRecords(name).map((q) => [q.id, q.text]))
}

export function loadQrels (name: string, split: string, dir = datasetsDir): Qrels {
  const qrels: Qrels = new Map()
  const lines = readFileSync(join(dir, name, 'qrels', `${split}.tsv`), 'utf8').split('\n').slice(1)
  for (const line of lines) {
    const [qid, docId, score] = line.trim().split('\t')
    if (qid === undefined || docId === undefined || score === undefined) continue
    let judged = qrels.get(qid)
    if (judged === undefined) qrels.set(qid, judged = new Map())
    judged.set(docId, Number(score))
  }
  return qrels
}

/** Exactly what the app stores: title as the title, the body split into passages. */
export function toSearchDocument (doc: CorpusDoc, maxWords?: number): SearchDocument {
  return { id: doc.id, title: doc.title, passages: splitIntoPassages(doc.text, maxWords === undefined ? {} : { maxWords }) }
}
