// An answer in server-sent events (POST /v1/chat with Accept: text/event-stream). Apart from
// request.ts so that only the chat page bundles the parser: the console never streams.
import { EventSourceParserStream } from 'eventsource-parser/stream'
import { ApiError, problemError } from './problem.js'

/**
 * Each `delta` event's text goes to onText as it arrives; the `done` event's data is the result,
 * and an `error` event (the turn failed after the stream began) throws its problem as an ApiError.
 * An answer in JSON (a command's, or a server that does not stream) is the result as it is.
 */
export async function readEvents<T> (response: Response, onText: (text: string) => void): Promise<T> {
  if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return await response.json() as T
  // A reader, not for await: not every browser can iterate a stream yet.
  const events = response.body!
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader()
  let result: { value: T } | undefined
  for (let next = await events.read(); next.done !== true; next = await events.read()) {
    const { event, data } = next.value
    const parsed: unknown = JSON.parse(data)
    if (event === 'delta') onText((parsed as { text: string }).text)
    else if (event === 'done') result = { value: parsed as T }
    else if (event === 'error') {
      throw problemError((parsed as { status?: number }).status ?? 0, parsed, 'The answer failed.')
    }
  }
  // Read to the end, which the server sends right after `done`: a request left open is aborted
  // when the page moves on, and the browser reports that as a failed request.
  if (result !== undefined) return result.value
  throw new ApiError(0, 'The answer was cut off. Check your connection and try again.')
}
