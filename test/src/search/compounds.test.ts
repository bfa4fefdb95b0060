// A question's compounds read as the knowledge base writes them, on its own evidence only.
import t from 'tap'
import { MAX_SPLIT_WORDS, readCompounds, type CompoundKnowledgeBase } from '../../../src/search/compounds.js'

/** A knowledge base of these texts: words held by passage count, written as the texts write them. */
function knowledgeBase (texts: string[], english: string[] = []): CompoundKnowledgeBase & { splitsAsked: number } {
  const lower = texts.map(text => text.toLowerCase())
  const kb = {
    splitsAsked: 0,
    passagesHolding: (word: string) => ['a', 'in', 'the', 'for', 'are', 'not'].includes(word)
      ? 0
      : lower.filter(text => new RegExp(`\\b${word}\\b`).test(text)).length,
    writes: (...words: string[]) => {
      if (words.length === 2) kb.splitsAsked++
      return lower.some(text => new RegExp(`\\b${words.join('\\s+')}\\b`).test(text))
    },
    isEnglish: (word: string) => english.includes(word)
  }
  return kb
}

t.test('split where a passage has the parts side by side, joined where one has the word', async t => {
  const kb = knowledgeBase(['Our car park is free.', 'If your login fails, reset it.', 'Free wifi for all.'])
  t.same(readCompounds('wheres the carpark?', kb), { text: 'wheres the car park?', corrections: [{ from: 'carpark', to: 'car park' }] })
  t.same(readCompounds('Cant LOG IN', kb), { text: 'Cant login', corrections: [{ from: 'log in', to: 'login' }] })
  t.same(readCompounds('wi fi and carpark', kb).text, 'wifi and car park', 'both in one question')
})

t.test('nothing read on a guess', async t => {
  const kb = knowledgeBase(['Our car park is free.', 'Cars and pets.', 'ADAD levels and the forthe gene.', 'An area.'], ['carpet'])
  for (const text of ['a carpet', 'car park', 'tell me a dad joke', 'useful for the team', 'they are a team', 'lo gin']) {
    t.same(readCompounds(text, kb), { text, corrections: [] }, text)
  }
  const held = knowledgeBase(['Car insurance.', 'The car park.', 'Carpark rules.'])
  t.same(readCompounds('car park', held).text, 'car park', 'not joined where the knowledge base holds a part')
  t.same(readCompounds('my carpark', held).text, 'my carpark', 'not split where it holds the word')
})

t.test('joined where one part is held elsewhere, unless the knowledge base writes the two apart', async t => {
  const kb = knowledgeBase(['Borrow e-books and audiobooks in the app.', 'Audio guides for the museum.'])
  t.same(readCompounds('can i borrow audio books', kb), {
    text: 'can i borrow audiobooks', corrections: [{ from: 'audio books', to: 'audiobooks' }]
  })
  const both = knowledgeBase(['Audiobooks in the app.', 'Our audio books are on CD.'])
  t.same(readCompounds('audio books', both).corrections, [], 'written both ways: left as typed')
  const gym = knowledgeBase(['Book a workout with a trainer.', 'Members can work from the lounge.'], ['workout'])
  t.same(readCompounds('can i work out the price', gym).corrections, [], 'nor where English has the joined word for itself')
  const unknown = { ...knowledgeBase(['Borrow audiobooks.', 'Audio guides.']), writes: (...words: string[]) => words.length === 1 ? true : undefined }
  t.same(readCompounds('audio books', unknown).corrections, [], 'nor where whether they are written apart is not known')
})

t.test('a long message tries to split a bounded number of its words', async t => {
  const kb = knowledgeBase(['Our car park is free.'])
  const words = Array.from({ length: 40 }, (_, i) => `zqxwv${String.fromCharCode(97 + (i % 26))}`)
  readCompounds(words.join(' '), kb)
  t.equal(kb.splitsAsked, MAX_SPLIT_WORDS * 3, 'three places to split each of the first words tried')
  t.equal(readCompounds(`${words.join(' ')} carpark`, kb).text.endsWith('carpark'), true, 'past the bound, words stay as typed')
})
