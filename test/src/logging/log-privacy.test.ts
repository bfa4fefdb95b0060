// User pseudonyms: keyed, stable for as long as the key is, whether or not they are still remembered.
import t from 'tap'
import { LogPrivacy } from '../../../src/logging/log-privacy.js'

const privacy = (idSecret: string, userIdMode: 'hashed' | 'plain' = 'hashed') => new LogPrivacy({ userIdMode, idSecret, chatContent: 'redacted' })

t.test('a user id becomes the same keyed pseudonym at every turn, a different one under another key', async t => {
  const one = privacy('key-1')
  const alice = one.userId('alice')
  t.match(alice, /^u_[0-9a-f]{16}$/)
  t.equal(one.userId('alice'), alice, 'remembered')
  t.equal(privacy('key-1').userId('alice'), alice, 'and the same in a process that never saw alice')
  t.not(privacy('key-2').userId('alice'), alice)
  t.not(one.userId('bob'), alice)
  t.equal(one.userId(undefined), undefined)
  t.equal(privacy('key-1', 'plain').userId('alice'), 'alice')
})

t.test('past the users it remembers, the oldest is forgotten and made again the same', async t => {
  const one = privacy('key-1')
  const first = one.userId('user-0')
  for (let i = 1; i <= 10_000; i++) one.userId(`user-${i}`)
  t.equal(one.userId('user-0'), first)
  t.equal(one.userId('user-10000'), privacy('key-1').userId('user-10000'))
})

t.test('a key derived for another purpose is not the pseudonym of a user id equal to that purpose', async t => {
  const one = privacy('key-1')
  const purpose = 'console conversation references'
  const key = one.keyFor(purpose)
  t.equal(key.length, 32)
  t.same(privacy('key-1').keyFor(purpose), key, 'stable under the same secret')
  t.notSame(privacy('key-2').keyFor(purpose), key)
  t.notSame(one.keyFor('another purpose'), key)
  t.not(one.userId(purpose), `u_${key.toString('hex').slice(0, 16)}`, 'a pseudonym reveals none of the key')
})
