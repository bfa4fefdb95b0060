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
  t.equal(excerpt('ab\r\ncd', 5), 'ab\r\ncd', 'a carriage return and a line feed are one character')
  t.equal(excerpt('a\tb\nc d e', 4), 'a\tb… (9 characters)', 'tabs and line feeds are one each')
  for (const text of ['plain ASCII text that goes on', 'ab\r\ncd\r\nef gh', 'naïve café, crème brûlée', 'a\u0007bell in it']) {
    for (const max of [2, 5, 9, 12]) {
      const graphemes = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text)].map(s => s.segment)
      const expected = graphemes.length <= max ? text : `${graphemes.slice(0, max - 1).join('')}… (${graphemes.length} characters)`
      t.equal(excerpt(text, max), expected, `${JSON.stringify(text)} at ${max}: as the segmenter counts`)
    }
  }
})
