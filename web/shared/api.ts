// fetch for the pages: JSON in and out, and an error that carries the problem+json `detail`
// (what the API says went wrong, naming the field or the limit) for the page to show as it is.

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
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
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
  if (response.status === 204) return undefined as T
  const type = response.headers.get('content-type') ?? ''
  const body: unknown = type.includes('json') ? await response.json().catch(() => undefined) : undefined
  if (!response.ok) {
    const detail = typeof body === 'object' && body !== null && typeof (body as { detail?: unknown }).detail === 'string'
      ? (body as { detail: string }).detail
      : `The server answered ${response.status} ${response.statusText}`.trim()
    throw new ApiError(response.status, detail)
  }
  return body as T
}

export const errorText = (error: unknown): string => error instanceof Error ? error.message : String(error)
