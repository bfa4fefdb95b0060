// A body sent whole carries its content-length, which the request's `request completed` line gives
// as res_bytes; a stream (a reply's server-sent events) carries none, and its line said 0 bytes.
// Its bytes are counted as they pass on to the response instead.
import { pipeline, Transform, type Readable } from 'node:stream'

/** The body, passed on unchanged; counted(bytes) is told the running total after each chunk. */
export function countedStream (body: Readable, counted: (bytes: number) => void): Readable {
  let bytes = 0
  const counter = new Transform({
    transform (chunk: Buffer, _encoding, done) {
      bytes += chunk.length
      counted(bytes)
      done(null, chunk)
    }
  })
  // The response destroys what it reads when its client goes away; pipeline passes that back to the body.
  return pipeline(body, counter, () => {})
}
