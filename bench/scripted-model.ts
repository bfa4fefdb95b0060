// A real HTTP server speaking OpenAI's Chat Completions protocol (streamed, with usage), for the
// tests of the model path and `npm run bench:llm`. No model can run here (no weights can be
// fetched), so the model behind it is scripted: each request takes the next step of the script (an answer, a status, a stall, a
// malformed chunk...), and the server records what it was sent and whether the caller went away.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type Step =
  | { kind: 'answer', text: string, firstChunkDelayMs?: number, usage?: { prompt_tokens: number, completion_tokens: number }, /** Between the first chunk and the rest, as a model spaces its tokens; none: all at once. */ restAfterMs?: number, /** stop unless given: length is an answer cut at max_tokens. */ finishReason?: string }
  | { kind: 'status', status: number, retryAfter?: string }
  /** Some text, then nothing more, ever. */
  | { kind: 'stall', text: string }
  | { kind: 'malformed' }
  /** A valid citation, then words without end, as fast as the caller reads them, until it goes away. */
  | { kind: 'endless' }

export interface ReceivedRequest {
  body: { model: string, messages: Array<{ role: string, content: string }>, stream?: boolean, stream_options?: { include_usage?: boolean }, max_tokens?: number }
  authorization: string | undefined
  at: number
  /** Set when the caller closed the connection before the answer was complete. */
  abandoned: boolean
  /** When the first piece of the answer's text was written (performance.now()). */
  firstChunkAt?: number
}

export interface ScriptedModel {
  url: string
  script: (...steps: Step[]) => void
  requests: ReceivedRequest[]
}

const DEFAULT: Step = { kind: 'answer', text: 'Sessions expire after 30 minutes of inactivity [1].' }

/** Started for the owner (a tap test, or the benchmark), which closes it with its teardown. */
export async function startScriptedModel (owner: { teardown: (close: () => Promise<void>) => void }): Promise<ScriptedModel> {
  const steps: Step[] = []
  const requests: ReceivedRequest[] = []
  const server = createServer((request, response) => {
    let raw = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => { raw += chunk })
    request.on('end', () => {
      const received: ReceivedRequest = { body: JSON.parse(raw), authorization: request.headers.authorization, at: performance.now(), abandoned: false }
      requests.push(received)
      response.on('close', () => { if (!response.writableFinished) received.abandoned = true })
      play(steps.shift() ?? DEFAULT, response, received)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  owner.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, script: (...next) => { steps.push(...next) }, requests }
}

function play (step: Step, response: ServerResponse, received: ReceivedRequest): void {
  const model = received.body.model
  if (step.kind === 'status') {
    response.writeHead(step.status, { 'content-type': 'application/json', ...(step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter }) })
    response.end(JSON.stringify({ error: { message: `scripted ${step.status}`, type: 'scripted', code: null } }))
    return
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    `data: ${JSON.stringify({ id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 0, model: `${model}-2026`, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
  if (step.kind === 'malformed') {
    response.write(chunk({ role: 'assistant', content: '' }))
    response.write('data: {"id": "chatcmpl-scripted", "choices": [{"delta": {"content": "Sess\n\n')
    response.end()
    return
  }
  if (step.kind === 'stall') {
    received.firstChunkAt = performance.now()
    response.write(chunk({ role: 'assistant', content: step.text }))
    return
  }
  if (step.kind === 'endless') {
    received.firstChunkAt = performance.now()
    const more = (): void => {
      while (!response.destroyed && response.write(chunk({ content: 'and more words [1] ' })));
      if (!response.destroyed) response.once('drain', more)
    }
    more()
    return
  }
  const rest = (): void => {
    if (response.destroyed) return
    for (const word of step.text.split(/(?<= )/).slice(1)) response.write(chunk({ content: word }))
    response.write(chunk({}, step.finishReason ?? 'stop'))
    const usage = step.usage ?? { prompt_tokens: 120, completion_tokens: 14 }
    response.write(`data: ${JSON.stringify({ id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 0, model: `${model}-2026`, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })}\n\n`)
    response.end('data: [DONE]\n\n')
  }
  const send = (): void => {
    if (response.destroyed) return
    response.write(chunk({ role: 'assistant', content: '' }))
    // Word by word, as models stream.
    received.firstChunkAt = performance.now()
    response.write(chunk({ content: step.text.split(/(?<= )/)[0] }))
    if (step.restAfterMs === undefined) rest()
    else setTimeout(rest, step.restAfterMs)
  }
  if (step.firstChunkDelayMs === undefined) send()
  else setTimeout(send, step.firstChunkDelayMs)
}
