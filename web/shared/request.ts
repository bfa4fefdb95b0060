// The pages' one way to the API: JSON in and out (or a response for events.ts to read), the
// cookie sent to this origin only, nothing cached, the page's own headers on every call, every
// failure an ApiError (problem.ts), and a 401 told to the one listener that deals with it (the
// console's sign-in) rather than to each view.
import { ApiError, responseError } from './problem.js'

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  body?: unknown
  /** Signs in, or asks whether one is signed in: a 401 is its answer, not a sign-in that ended. */
  authenticating?: boolean
}

export interface ApiClient {
  json: <T>(path: string, options?: RequestOptions) => Promise<T>
  /** The successful response itself, for an answer that is not one JSON document (events.ts). */
  send: (path: string, options: RequestOptions, accept: string) => Promise<Response>
  /** Calls listener on each 401 but an authenticating request's; returns what stops it. */
  onUnauthorized: (listener: () => void) => () => void
}

export function apiClient (
  { base = '', headers = {} }: { base?: string, headers?: Record<string, string> } = {}
): ApiClient {
  const listeners = new Set<() => void>()

  async function send (path: string, options: RequestOptions, accept: string): Promise<Response> {
    const sent: Record<string, string> = { accept, ...headers }
    if (options.body !== undefined) sent['content-type'] = 'application/json'
    // Named, not written in the call: Node's RequestInit (the unit tests') has no `cache`.
    const init = {
      method: options.method ?? 'GET',
      headers: sent,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store'
    } as const
    let response: Response
    try {
      response = await fetch(`${base}${path}`, init)
    } catch {
      throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.')
    }
    if (response.ok) return response
    const error = await responseError(response)
    if (response.status === 401 && options.authenticating !== true) for (const listener of listeners) listener()
    throw error
  }

  return {
    async json<T> (path: string, options: RequestOptions = {}): Promise<T> {
      const response = await send(path, options, 'application/json')
      if (response.status === 204) return undefined as T
      return await response.json() as T
    },
    send,
    onUnauthorized (listener: () => void): () => void {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}
