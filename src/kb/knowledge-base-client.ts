// A running server's knowledge base, through its API: how kb:import adds documents while the server
// owns the database folder (the embedded database admits one process), or without access to the
// database at all. Each document is one `PUT /v1/kb/documents/:id` (create or replace, audited under
// the key's id), so a document's outcome is known before the next is sent and an import that stops
// says exactly which documents are stored.
import { busyRetryDelayMs } from '../http/busy-retry.js'
import type { DocumentInput } from './document-files.js'
import type { PutOutcome } from './knowledge-base.js'

/** The server refused this document (a 4xx about the document): the next ones may still go in. */
export class DocumentRefusedError extends Error { override name = 'DocumentRefusedError' }

export interface KnowledgeBaseClientOptions {
  /** The server's base URL, e.g. http://127.0.0.1:3000 */
  url: string
  /** An admin key. */
  apiKey: string
  sleep?: (ms: number) => Promise<void>
}

interface Problem { title?: string, detail?: string }

export class KnowledgeBaseClient {
  private readonly base: URL
  private readonly apiKey: string
  private readonly sleep: (ms: number) => Promise<void>

  constructor (options: KnowledgeBaseClientOptions) {
    this.base = new URL(options.url)
    this.apiKey = options.apiKey
    this.sleep = options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)))
  }

  /** Creates or replaces the document (KnowledgeBase.put, through the server). */
  async put (id: string, document: Omit<DocumentInput, 'id'>): Promise<PutOutcome> {
    const url = new URL(`v1/kb/documents/${encodeURIComponent(id)}`, this.base)
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(document)
      }).catch((error: Error & { cause?: { code?: string, message?: string } }) => {
        const cause = error.cause?.code ?? error.cause?.message ?? error.message
        throw new Error(`could not reach ${url.origin} (${cause}); is the server running?`)
      })
      const body = await response.json().catch(() => ({})) as Problem & { created?: boolean, moved_from?: string }
      if (response.ok) {
        const created = body.created === true
        return typeof body.moved_from === 'string' ? { created, movedFrom: body.moved_from } : { created }
      }
      const why = `${response.status} ${body.detail ?? body.title ?? response.statusText}`
      const delayMs = busyRetryDelayMs(response, attempt)
      if (delayMs !== undefined) {
        await this.sleep(delayMs)
        continue
      }
      if (response.status === 401 || response.status === 403) {
        throw new Error(
          `the server refused the key (${why}); PARLEY_API_KEY must be an admin key of ${this.base.origin}`
        )
      }
      if (response.status >= 400 && response.status < 500 && response.status !== 404) {
        throw new DocumentRefusedError(`the server refused it: ${why}`)
      }
      throw new Error(`${url.origin} answered ${why}`)
    }
  }
}
