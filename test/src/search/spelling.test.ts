// Misspelt words read as the word one edit away that the knowledge base holds, and an English word as
// the knowledge base's regional spelling of it; nothing else changed: other English words, the
// knowledge base's own words, short words and abbreviations stay.
import t from 'tap'
import { correctSpelling, forEachEdit, MAX_CORRECTED_WORDS } from '../../../src/search/spelling.js'
import { analyze } from '../../../src/search/text-analysis.js'

/** Optimal string alignment distance, as a reference for the edits. */
function distance (a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i + j))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}

const edits = (word: string): Set<string> => {
  const all = new Set<string>()
  forEachEdit(word, edit => all.add(edit))
  return all
}

/** English by frequency rank, and a knowledge base holding `held` (words, counted in passages). */
function corrector (english: string[], held: Record<string, number>) {
  const ranks = new Map(english.map((word, rank) => [word, rank]))
  const passages = new Map(Object.entries(held).map(([word, count]) => [analyze(word)[0]!, count]))
  return (text: string) => correctSpelling(text, ranks, term => passages.get(term) ?? 0)
}

t.test('one edit: a letter deleted, two neighbours swapped, a letter changed or added', async t => {
  const near = edits('form')
  for (const edit of ['orm', 'fom', 'from', 'fxrm', 'forms', 'aform']) t.ok(near.has(edit), edit)
  t.notOk(near.has('form'), 'not the word itself')
  t.notOk(near.has('farms'), 'not two edits')
  const letters = [...'abcdefghijklmnopqrstuvwxyz']
  const upToThree = [...letters, ...letters.flatMap(a => letters.map(b => a + b))]
  const all = [...upToThree, ...upToThree.filter(word => word.length === 2).flatMap(ab => letters.map(c => ab + c))]
  t.same([...edits('ab')].sort(), all.filter(word => distance(word, 'ab') === 1).sort(), 'and every one of them')
})

t.test('a misspelt word is read as the word the knowledge base holds', async t => {
  const correct = corrector(['password', 'forgot', 'passport'], { password: 3, passport: 1, reset: 3 })
  t.same(correct('forgot my pasword'), { text: 'forgot my password', corrections: [{ from: 'pasword', to: 'password' }] })
  t.same(correct('Pasword reset?').text, 'password reset?', 'whatever its case; the rest as typed')
  t.same(correct('forgot my password').corrections, [], 'a word as the knowledge base holds it stays')
})

t.test('what is not a misspelling stays as typed', async t => {
  const correct = corrector(['password', 'passwords', 'dog'], { password: 2, dns: 4, eduroam: 2 })
  t.same(correct('my passwords').corrections, [], 'an English word the knowledge base lacks')
  t.same(correct('eduroam is down').corrections, [], 'a name the knowledge base holds')
  t.same(correct('the pwd').corrections, [], 'a short word: too many neighbours to guess from')
  t.same(correct('dlns are swollen').corrections, [], 'a short word no English word is near: an abbreviation')
  t.same(correct('xqzvbnm').corrections, [], 'nothing near in the knowledge base')
  t.same(correct('pasword2').corrections, [], 'not a plain word')
})

t.test('a name the knowledge base holds is read from six letters, and the most held word wins', async t => {
  const correct = corrector(['save', 'safe'], { eduroam: 2, save: 1, safe: 1 })
  t.same(correct('eduraom not working').corrections, [{ from: 'eduraom', to: 'eduroam' }])
  t.same(correct('sabe').corrections, [{ from: 'sabe', to: 'save' }], 'as many passages: the more frequent English word')
  const held = corrector(['save', 'safe'], { save: 1, safe: 4 })
  t.same(held('sabe').corrections, [{ from: 'sabe', to: 'safe' }], 'the word more passages hold')
})

t.test(`at most ${MAX_CORRECTED_WORDS} unknown words are looked into`, async t => {
  const correct = corrector(['password', 'refund', 'account', 'delivery'], { password: 1, refund: 1, account: 1, delivery: 1 })
  const { corrections } = correct('zzzz pasword refnd acount delivary')
  t.same(corrections.map(({ to }) => to), ['password', 'refund'], 'gibberish counts as looked into')
})

t.test("an English word the knowledge base spells the other region's way is read as its spelling", async t => {
  const correct = corrector(['color', 'colour', 'print', 'organize'], { colour: 2, print: 3, organise: 1 })
  t.same(correct('print in color'), { text: 'print in colour', corrections: [{ from: 'color', to: 'colour' }] })
  t.same(correct('who will organize it').corrections, [{ from: 'organize', to: 'organise' }], 'British to American and back')
  const american = corrector(['color', 'colour'], { color: 2 })
  t.same(american('colour printing').corrections, [{ from: 'colour', to: 'color' }])
  const both = corrector(['color', 'colour'], { color: 1, colour: 1 })
  t.same(both('colour or color').corrections, [], 'a spelling the knowledge base holds stays')
  const neither = corrector(['color', 'colour'], { print: 1 })
  t.same(neither('color print').corrections, [], 'as does one whose other spelling it lacks too')
  const metres = corrector(['meter', 'metre', 'gas'], { metre: 2, gas: 3 })
  t.same(metres('my gas meter').corrections, [], 'a pair that is two words in British English is not read as one')
  const tires = corrector(['tire', 'tyre', 'flat'], { tire: 2, flat: 1 })
  t.same(tires('my tyre is flat').corrections, [{ from: 'tyre', to: 'tire' }], 'but its British word, of one meaning, is')
  const tyres = corrector(['tire', 'tyre', 'legs'], { tyre: 2, legs: 1 })
  t.same(tyres('my legs tire').corrections, [], 'while the American word, of two, is not read as the British')
  const tonnes = corrector(['ton', 'tonne'], { ton: 1 })
  t.same(tonnes('a tonne').corrections, [], 'and a pair of two words either way is read neither way')
})

t.test('regional spellings are read past the bound on misspelt words', async t => {
  const correct = corrector(['color', 'refund'], { colour: 1, refund: 1 })
  t.same(correct('zzzz qqqq xxxx wwww color').corrections, [{ from: 'color', to: 'colour' }])
})
