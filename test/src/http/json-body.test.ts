// A JSON body's faults in the caller's words: where the text stops being JSON, or which key is
// refused; never the text itself, which the problem's detail would carry into the logs.
import t from 'tap'
import { parseJsonBody } from '../../../src/http/json-body.js'
import { ProblemError } from '../../../src/errors.js'

const detail = (text: string): string => {
  try {
    parseJsonBody(text)
  } catch (error) {
    if (error instanceof ProblemError) return `${error.statusCode} ${error.type}: ${error.message}`
    throw error
  }
  throw new Error(`${text} parsed`)
}

t.test('a body that is JSON is parsed as JSON.parse would, a BOM skipped', async t => {
  t.same(parseJsonBody('{"message":"hi","n":[1,2,{"a":null}]}'), { message: 'hi', n: [1, 2, { a: null }] })
  t.same(parseJsonBody('\uFEFF{"message":"hi"}'), { message: 'hi' })
  t.same(parseJsonBody('{"proto":{"x":1},"constructor":"a name"}'), { proto: { x: 1 }, constructor: 'a name' }, 'keys like those are fine')
})

t.test('a fault says where it is, never what was sent', async t => {
  t.equal(detail('{"message": "hi"'), "400 invalid-json: The body is not valid JSON: expected ',' or '}' after property value at position 16 (line 1 column 17).")
  t.equal(detail('{"message":\n"hi",}'), '400 invalid-json: The body is not valid JSON: expected double-quoted property name at position 17 (line 2 column 6).')
  t.equal(detail('call me on 0161 496 0742'), "400 invalid-json: The body is not valid JSON: unexpected token 'c'.", 'the text it could not read is not quoted')
  t.equal(detail('{"a": 1} trailing'), '400 invalid-json: The body is not valid JSON: unexpected non-whitespace character after JSON at position 9 (line 1 column 10).')
})

t.test('a key that would reach every object\'s prototype is refused by name', async t => {
  for (const body of ['{"__proto__": {"admin": true}}', '{"a": {"constructor": {"prototype": {"admin": true}}}}']) {
    t.match(detail(body), /^400 invalid-json: The body has a "__proto__" key, or a "constructor" key holding "prototype", which is refused/, body)
  }
  t.same(({} as Record<string, unknown>).admin, undefined, 'and nothing inherited it')
})

t.test('the quoted text is left out however V8 cuts it', async t => {
  const long = `{"message": "${'x'.repeat(200)}" "more": 1}`
  t.notMatch(detail(long), /xxx/)
  t.notMatch(detail(`nope ${'y'.repeat(200)}`), /yyy|nope/)
})
