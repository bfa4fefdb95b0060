// A conversation's reference: the session id sealed under the server's key, one reference per
// conversation, read back only by a server holding that key and only if not tampered with.
import { randomBytes, randomUUID } from 'node:crypto'
import t from 'tap'
import fc from 'fast-check'
import { CONVERSATION_REF_PATTERN, ConversationRefs } from '../../../src/console/conversation-ref.js'

const KEY = Buffer.alloc(32, 7)
const SESSION = '52c16b89-9200-4a05-9159-9deabba9423a'
const pattern = new RegExp(CONVERSATION_REF_PATTERN)

t.test('a reference reads back as its session id, and matches the published pattern', async t => {
  const refs = new ConversationRefs(KEY)
  const ref = refs.ref(SESSION)
  t.match(ref, pattern)
  t.equal(ref.length, 61)
  t.notMatch(ref, /52c16b89|9deabba9423a/, 'the id is not visible in it')
  t.equal(refs.sessionId(ref), SESSION)
  fc.assert(fc.property(fc.uuid(), id => {
    const back = refs.sessionId(refs.ref(id))
    return back === id.toLowerCase() && pattern.test(refs.ref(id))
  }), { numRuns: 200 })
})

t.test('one conversation, one reference; another conversation, another', async t => {
  const refs = new ConversationRefs(KEY)
  t.equal(refs.ref(SESSION), refs.ref(SESSION), 'stable for links and bookmarks')
  t.equal(new ConversationRefs(Buffer.from(KEY)).ref(SESSION), refs.ref(SESSION), 'on another instance with the same key')
  t.equal(refs.ref(SESSION.toUpperCase()), refs.ref(SESSION), 'the id\'s case does not matter')
  t.equal(refs.sessionId(refs.ref(SESSION.toUpperCase())), SESSION, 'read back in lower case')
  const ids = Array.from({ length: 200 }, () => randomUUID())
  t.equal(new Set(ids.map(id => refs.ref(id))).size, ids.length)
  t.not(refs.ref(SESSION), refs.ref('52c16b89-9200-4a05-9159-9deabba9423b'), 'one digit apart')
})

t.test('a reference made under another key is not this server\'s', async t => {
  const ours = new ConversationRefs(KEY)
  const theirs = new ConversationRefs(randomBytes(32))
  t.not(theirs.ref(SESSION), ours.ref(SESSION))
  t.equal(ours.sessionId(theirs.ref(SESSION)), undefined)
})

t.test('a reference changed anywhere, or malformed, names no session', async t => {
  const refs = new ConversationRefs(KEY)
  const ref = refs.ref(SESSION)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  let refused = 0
  for (let at = 2; at < ref.length; at++) {
    const other = alphabet[(alphabet.indexOf(ref[at]!) + 1) % alphabet.length]!
    const changed = ref.slice(0, at) + other + ref.slice(at + 1)
    if (changed !== ref && refs.sessionId(changed) === undefined) refused++
  }
  // The last character carries 2 padding bits base64url decoding drops: changing it may not change the bytes.
  t.ok(refused >= ref.length - 3, `${refused} of ${ref.length - 2} one-character changes refused`)
  t.equal(refs.sessionId(ref.slice(0, -1)), undefined, 'one character short')
  t.equal(refs.sessionId(`${ref}A`), undefined, 'one character long')
  t.equal(refs.sessionId(`x_${ref.slice(2)}`), undefined, 'another prefix')
  t.equal(refs.sessionId(ref.slice(2)), undefined, 'no prefix')
  t.equal(refs.sessionId(SESSION), undefined, 'a bare session id is not a reference')
  t.equal(refs.sessionId(''), undefined)
  t.equal(refs.sessionId('c_'), undefined)
  t.equal(refs.sessionId(`c_${'A'.repeat(59)}`), undefined, 'the right shape, made up')
  t.equal(refs.sessionId(`c_${'%'.repeat(59)}`), undefined, 'not base64url')
})
