// The console's state lives in the location hash (#/conversations?kind=no_answer,
// #/conversations/<session id>?trace=<trace id>, #/traces/<trace id> for a turn that failed before
// its session was stored, #/overview?period=week, #/accuracy?run=<run id>), so a view can be
// shared as a link, and quality alerts can link straight to a filtered list.
import { useEffect, useState } from 'preact/hooks'

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
  if (parts[0] === 'conversations' && parts[1] !== undefined) return { view: 'conversation', id: decodeURIComponent(parts[1]), params }
  if (parts[0] === 'traces' && parts[1] !== undefined) return { view: 'trace', id: decodeURIComponent(parts[1]), params }
  return { view: 'conversations', params }
}

export function hashFor (path: string, params: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, value)
  const text = search.toString()
  return `#/${path}${text === '' ? '' : `?${text}`}`
}

export function useRoute (): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash))
  useEffect(() => {
    const changed = (): void => { setRoute(parseHash(location.hash)) }
    addEventListener('hashchange', changed)
    return () => { removeEventListener('hashchange', changed) }
  }, [])
  return route
}

export const navigate = (hash: string): void => { location.hash = hash }
