// A quotation of users' words: whole when short, else its beginning and its length, in graphemes.
import t from 'tap'
import { excerpt } from '../../../src/text/excerpt.js'

t.test('whole when short; else the first graphemes, an ellipsis and the length', async t => {
  t.equal(excerpt('how do I get a refund?', 200), 'how do I get a refund?')
  t.equal(excerpt('abcdef', 6), 'abcdef', 'exactly at the limit: whole')
  t.equal(excerpt('abcdefg', 6), 'abcde… (7 characters)')
  t.equal(excerpt('é'.normalize('NFD').repeat(3) + 'x', 3), `${'é'.normalize('NFD').repeat(2)}… (4 characters)`, 'a letter and its accent are one character')
  t.equal(excerpt('x'.repeat(12_345), 10), `${'x'.repeat(9)}… (12,345 characters)`)
  const accented = 'é'.normalize('NFD').repeat(3)
  t.equal(excerpt(accented, 4), accented, 'longer than the limit in code units, not in characters: whole')
  t.equal(excerpt('👍🏽👍🏽', 2), '👍🏽👍🏽', 'two emoji of four code units each are two characters')
})
