// The console's state lives in the location hash (#/conversations?kind=no_answer,
// #/conversations/<session id>?trace=<trace id>, #/traces/<trace id> for a turn that failed before
// its session was stored, #/overview?period=week, #/accuracy?run=<run id>), so a view can be
// shared as a link, and quality alerts can link straight to a filtered list.
import { queryString } from '../shared/query.js'

export interface Route {
  view: 'conversations' | 'conversation' | 'trace' | 'overview' | 'accuracy'
  /** The open conversation's session id, or the trace's id. */
  id?: string
  params: URLSearchParams
}

export function parseHash (hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2)
  const params = new URLSearchParams(search)
  const parts = path.split('/').filter(part => part !== '')
  if (parts[0] === 'overview') return { view: 'overview', params }
  if (parts[0] === 'accuracy') return { view: 'accuracy', params }
  if (parts[0] === 'conversations' && parts[1] !== undefined) {
    return { view: 'conversation', id: decodeURIComponent(parts[1]), params }
  }
  if (parts[0] === 'traces' && parts[1] !== undefined) {
    return { view: 'trace', id: decodeURIComponent(parts[1]), params }
  }
  return { view: 'conversations', params }
}

export const hashFor = (path: string, params: Readonly<Record<string, string | undefined>> = {}): string =>
  `#/${path}${queryString(params)}`

// The last list of conversations shown, so that "Back to conversations" returns to its filters.
// Module-private, read and written through the two functions below only.
let lastList = hashFor('conversations')

export const rememberListHash = (hash: string): void => { lastList = hash === '' ? hashFor('conversations') : hash }

export const listHash = (): string => lastList
