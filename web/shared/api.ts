// fetch for the pages: JSON in and out (or server-sent events), and an error that carries the
// problem+json `detail` (what the API says went wrong, naming the field or the limit) for the page
// to show as it is.
import { EventSourceParserStream } from 'eventsource-parser/stream'

export class ApiError extends Error {
  constructor (readonly status: number, detail: string) {
    super(detail)
    this.name = 'ApiError'
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  body?: unknown
  headers?: Record<string, string>
}

export async function requestJson<T> (url: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(url, options, 'application/json')
  if (response.status === 204) return undefined as T
  return await response.json() as T
}

/**
 * A request answered with server-sent events (POST /v1/chat with Accept: text/event-stream): each
 * `delta` event's text goes to onText as it arrives; the `done` event's data is the result, and an
 * `error` event (the turn failed after the stream began) throws its problem's detail.
 */
export async function requestEvents<T> (url: string, options: RequestOptions, onText: (text: string) => void): Promise<T> {
  const response = await send(url, options, 'text/event-stream')
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return await response.json() as T
  // A reader, not for await: not every browser can iterate a stream yet.
  const events = response.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader()
  for (let next = await events.read(); next.done !== true; next = await events.read()) {
    const { event, data } = next.value
    const parsed = JSON.parse(data)
    if (event === 'delta') onText(parsed.text)
    else if (event === 'done') return parsed as T
    else if (event === 'error') throw new ApiError(parsed.status, parsed.detail)
  }
  throw new ApiError(0, 'The answer was cut off. Check your connection and try again.')
}

/** fetch, with a problem's detail (or the status) thrown as an ApiError when the answer is not a success. */
async function send (url: string, options: RequestOptions, accept: string): Promise<Response> {
  const headers: Record<string, string> = { accept, ...options.headers }
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      cache: 'no-store'
    })
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check your connection and try again.')
  }
  if (response.ok) return response
  const type = response.headers.get('content-type') ?? ''
  const body: unknown = type.includes('json') ? await response.json().catch(() => undefined) : undefined
  const detail = typeof body === 'object' && body !== null && typeof (body as { detail?: unknown }).detail === 'string'
    ? (body as { detail: string }).detail
    : `The server answered ${response.status} ${response.statusText}`.trim()
  throw new ApiError(response.status, detail)
}

export const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)
