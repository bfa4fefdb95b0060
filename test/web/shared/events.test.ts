import t from 'tap'
import { ApiError } from '../../../web/shared/problem.js'
import { readEvents } from '../../../web/shared/events.js'

const stream = (events: string) => new Response(events, { headers: { 'content-type': 'text/event-stream' } })
const failure = async (request: Promise<unknown>): Promise<unknown> => await request.then(() => undefined, (caught: unknown) => caught)

t.test('deltas as they come, then the done event\'s data', async t => {
  const texts: string[] = []
  const result = await readEvents(stream('event: delta\ndata: {"text":"Hel"}\n\nevent: delta\ndata: {"text":"lo"}\n\nevent: done\ndata: {"reply":"Hello"}\n\n'), text => { texts.push(text) })
  t.same(result, { reply: 'Hello' })
  t.same(texts, ['Hel', 'lo'])
})

t.test('the result comes once the stream has ended, so that no request is left open for the page to abort', async t => {
  const encoder = new TextEncoder()
  let ended = false
  const body = new ReadableStream<Uint8Array>({
    start (controller) {
      controller.enqueue(encoder.encode('event: delta\ndata: {"text":"Hi"}\n\nevent: done\ndata: {"reply":"Hi"}\n\n'))
      setTimeout(() => { ended = true; controller.close() }, 20)
    }
  })
  const result = await readEvents(new Response(body, { headers: { 'content-type': 'text/event-stream' } }), () => {})
  t.same(result, { reply: 'Hi' })
  t.ok(ended, 'the server had ended the response')
})

t.test('an error event throws its problem', async t => {
  const error = await failure(readEvents(stream('event: delta\ndata: {"text":"Hel"}\n\nevent: error\ndata: {"type":"urn:parley:problem:model","status":503,"detail":"The model is unavailable."}\n\n'), () => {}))
  t.ok(error instanceof ApiError)
  t.match(error, { status: 503, message: 'The model is unavailable.', type: 'urn:parley:problem:model' })
})

t.test('a stream that ends before done says it was cut off', async t => {
  t.match(await failure(readEvents(stream('event: delta\ndata: {"text":"Hel"}\n\n'), () => {})), { status: 0, message: /cut off/ })
})

t.test('a JSON answer is the result as it is', async t => {
  t.same(await readEvents(Response.json({ reply: '/help lists the commands' }), () => { t.fail('no text') }), { reply: '/help lists the commands' })
})
