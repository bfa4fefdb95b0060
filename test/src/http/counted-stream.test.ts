// A streamed body passes on unchanged while its bytes are counted; a response that stops reading
// (its client went away) stops the body too.
import t from 'tap'
import { PassThrough, Readable } from 'node:stream'
import { countedStream } from '../../../src/http/counted-stream.js'

t.test('the bytes that passed, in any encoding, and the body unchanged', async t => {
  const totals: number[] = []
  const counted = countedStream(Readable.from(['event: delta\n', 'data: "héllo"\n\n']), bytes => { totals.push(bytes) })
  let text = ''
  for await (const chunk of counted) text += String(chunk)
  t.equal(text, 'event: delta\ndata: "héllo"\n\n')
  t.same(totals, [13, 13 + Buffer.byteLength('data: "héllo"\n\n')], 'a running total, bytes not characters')
})

t.test('destroyed by its reader, it destroys the body', async t => {
  const body = new PassThrough()
  const counted = countedStream(body, () => {})
  body.write('first')
  counted.destroy()
  await new Promise(resolve => setImmediate(resolve))
  t.ok(body.destroyed, 'the body is not left open')
})
