// A search of the knowledge base as a turn makes it, seen from outside: a GenAI retrieval span
// (never with the query text: it may hold personal data), the search metrics, the turn's search
// time, and its results and answer decision (when there is one) on the turn's own log line,
// chat.reply_sent, rather than a line of its own: a line costs its serialisation on the event loop
// and its hand-off to the log worker, whatever it holds. The search itself is the caller's: the
// turn's questions and its /search command both go through here.
import type { AttributeValue } from '@opentelemetry/api'
import { GenAi } from '../telemetry/gen-ai-conventions.js'
import { addTurnTime, currentTurnLine } from '../logging/log-context.js'
import type { Instruments } from '../telemetry/metrics.js'
import { inSpan } from '../telemetry/spans.js'
import type { SearchHit } from './search-engine.js'

// The retrieval span's gen_ai.data_source.id: the one place answers come from.
const KNOWLEDGE_BASE = 'knowledge-base'

export type SearchInstruments = Pick<Instruments, 'searchDuration' | 'searchResults'>

/** Why a search's best passage was or was not taken as the answer: shown on the span and the log line. */
export interface Explained { decision: string, why: Record<string, AttributeValue> }

export function retrieve<T extends { hits: SearchHit[] }> (
  k: number,
  search: () => T,
  options: { instruments?: SearchInstruments, explain?: (found: T) => Explained } = {}
): T {
  const attributes = {
    [GenAi.operationName]: 'retrieval',
    [GenAi.dataSourceId]: KNOWLEDGE_BASE,
    [GenAi.requestTopK]: k
  }
  return inSpan(`retrieval ${KNOWLEDGE_BASE}`, attributes, span => {
    const started = performance.now()
    const found = search()
    const { hits } = found
    const ms = performance.now() - started
    addTurnTime('search_ms', ms)
    options.instruments?.searchDuration.record(ms / 1000)
    options.instruments?.searchResults.record(hits.length)
    const best = hits[0]
    span.setAttribute('parley.search.results', hits.length)
    // The best document's id (the team's content, never the user's words): which entry a wrong
    // answer came from.
    if (best !== undefined) {
      span.setAttributes({ 'parley.search.top_score': best.score, 'parley.search.top_doc_id': best.docId })
    }
    const explained = options.explain?.(found)
    if (explained !== undefined) span.setAttribute('parley.answer.decision', explained.decision)
    for (const [key, value] of Object.entries(explained?.why ?? {})) span.setAttribute(`parley.answer.${key}`, value)
    // The turn's line has the best score already (its top_score); the search adds the rest, and
    // its time to the turn's search time (a turn that searched twice names its later search).
    const line = currentTurnLine()
    if (line !== undefined) {
      const before = typeof line.search_ms === 'number' ? line.search_ms : 0
      Object.assign(line, {
        results: hits.length,
        top_doc_id: best?.docId ?? null,
        ...(explained === undefined ? {} : { decision: explained.decision, ...explained.why }),
        search_ms: Math.round((before + ms) * 100) / 100
      })
    }
    return found
  })
}
