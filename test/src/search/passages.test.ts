import t from 'tap'
import fc from 'fast-check'
import {
  DEFAULT_MAX_WORDS, sentenceAndRowSpans, splitIntoPassages, splitSentences, splitSentencesAndRows
} from '../../../src/search/passages.js'

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w.length > 0)

t.test('empty or blank text gives one empty passage', async (t) => {
  t.same(splitIntoPassages(''), [{ ordinal: 0, text: '' }])
  t.same(splitIntoPassages('  \n\n\t \r\n'), [{ ordinal: 0, text: '' }])
  t.same(splitIntoPassages(undefined as unknown as string), [{ ordinal: 0, text: '' }])
})

t.test('plain text is one passage', async (t) => {
  t.same(splitIntoPassages('Parley answers questions.'), [{ ordinal: 0, text: 'Parley answers questions.' }])
})

t.test('a passage starts at every heading and carries it', async (t) => {
  const md = '# Parley\nA chatbot API.\n\n## Install\nRun npm ci.\n\n### Linux\nUse systemd.\n'
  t.same(splitIntoPassages(md), [
    { ordinal: 0, heading: 'Parley', text: 'A chatbot API.' },
    { ordinal: 1, heading: 'Install', text: 'Run npm ci.' },
    { ordinal: 2, heading: 'Linux', text: 'Use systemd.' }
  ])
})

t.test('text before the first heading has no heading; closing #s are dropped', async (t) => {
  t.same(splitIntoPassages('Intro.\n\n## Usage ##\nCall it.'), [
    { ordinal: 0, text: 'Intro.' },
    { ordinal: 1, heading: 'Usage', text: 'Call it.' }
  ])
})

t.test('setext headings and CRLF line ends', async (t) => {
  t.same(splitIntoPassages('Setup\r\n=====\r\nStep one.\r\n\r\nMore\r\n----\r\nStep two.'), [
    { ordinal: 0, heading: 'Setup', text: 'Step one.' },
    { ordinal: 1, heading: 'More', text: 'Step two.' }
  ])
})

t.test('small consecutive paragraphs under one heading are merged', async (t) => {
  const md = '## FAQ\nFirst answer.\n\nSecond answer.\n\n- a list\n- of items'
  t.same(splitIntoPassages(md), [
    { ordinal: 0, heading: 'FAQ', text: 'First answer.\n\nSecond answer.\n\n- a list\n- of items' }
  ])
})

t.test('merging never crosses a heading, even one with the same text', async (t) => {
  const passages = splitIntoPassages('## Example\nOne.\n\n## Example\nTwo.')
  t.same(passages.map((p) => p.text), ['One.', 'Two.'])
})

t.test('merging stops at maxWords', async (t) => {
  const para = (n: number): string => Array.from({ length: 10 }, (_, i) => `w${n}x${i}`).join(' ')
  const md = [para(1), para(2), para(3), para(4), para(5)].join('\n\n')
  const passages = splitIntoPassages(md, { maxWords: 25 })
  t.same(passages.map((p) => words(p.text).length), [20, 20, 10])
  t.same(passages.flatMap((p) => words(p.text)), words(md))
})

t.test('a paragraph ending in a colon goes with what it introduces', async (t) => {
  const row = (n: number): string => `| t${n} | ${Array.from({ length: 8 }, (_, i) => `c${n}x${i}`).join(' ')} |`
  const table = ['| Table | Contents |', '| --- | --- |', ...Array.from({ length: 12 }, (_, i) => row(i))].join('\n')
  const md = `## Tables\nFirst a word of context.\n\nParley creates these tables:\n\n${table}\n\nAfter the table.`
  const passages = splitIntoPassages(md, { maxWords: 60 })
  t.equal(passages[0]!.text, 'First a word of context.', 'the paragraph before the lead-in keeps its passage')
  const lead = passages.find(p => p.text.includes('Parley creates these tables:'))!
  t.ok(lead.text.startsWith('Parley creates these tables:\n\n| Table | Contents |'), 'the lead-in opens the table\'s first part')
  t.notOk(passages.some(p => p.text.trim().endsWith(':')), 'no passage ends on the lead-in')
  t.ok(passages.every(p => words(p.text).length <= 60))
  t.same(passages.flatMap(p => words(p.text)), words(md.replace('## Tables\n', '')), 'no word lost or moved')

  const short = splitIntoPassages('## A\nWe offer:\n\n- cuts\n- colours\n\n## B\nOther.', { maxWords: 60 })
  t.same(short.map(p => p.text), ['We offer:\n\n- cuts\n- colours', 'Other.'], 'merged as any short paragraphs are')
  const atEnd = splitIntoPassages('## A\nSee below:\n\n## B\nOther.', { maxWords: 60 })
  t.same(atEnd.map(p => p.text), ['See below:', 'Other.'], 'never carried into another section')
  const tooLong = `Intro to it:\n\n${Array.from({ length: 59 }, (_, i) => `w${i}`).join(' ')}`
  t.same(splitIntoPassages(tooLong, { maxWords: 60 }).map(p => words(p.text).length), [3, 59], 'kept apart where both do not fit')
})

t.test('a lead-in that cannot go with what it introduces stays where it was, never alone', async (t) => {
  const sentence = (n: number, length: number): string => `${Array.from({ length: length - 1 }, (_, i) => `s${n}x${i}`).join(' ')} end.`
  const cases = [
    // The next paragraph leaves no room for it.
    `Some context here now.\n\nIntro to it:\n\n${sentence(1, 58)}`,
    // The first part of a paragraph too long for one passage leaves no room for it.
    `Some context here now.\n\nAs follows:\n\n${sentence(1, 59)} ${sentence(2, 59)}`,
    // Two in a row: moving the second would strand the first.
    `Some context.\n\nFirst:\n\nSecond:\n\n${sentence(1, 30)} ${sentence(2, 30)} ${sentence(3, 30)}`
  ]
  const expected = [[7, 58], [6, 59, 59], [4]]
  cases.forEach((md, n) => {
    const passages = splitIntoPassages(md, { maxWords: 60 })
    t.notOk(passages.some(p => /^[^\n]*:$/.test(p.text)), `case ${n + 1}: no passage is a lead-in alone`)
    t.same(passages.map(p => words(p.text).length).slice(0, expected[n]!.length), expected[n], `case ${n + 1}: where it was`)
    t.same(passages.flatMap(p => words(p.text)), words(md), `case ${n + 1}: no word lost or moved`)
  })
})

t.test('a split leaves no tail of one short unit', async (t) => {
  const row = (n: number, length: number): string => `| ${Array.from({ length }, (_, i) => `r${n}x${i}`).join(' ')} |`
  // Rows of uneven sizes: packed by target size alone, the last short row made a passage of its own.
  const lengths = [...Array.from({ length: 9 }, () => 10), ...Array.from({ length: 9 }, () => 14), 2]
  const table = lengths.map((length, i) => row(i, length)).join('\n')
  const passages = splitIntoPassages(table, { maxWords: 200 })
  t.same(passages.map(p => words(p.text).length), [124, 132], 'not 124, 128 and 4')
  t.same(passages.flatMap(p => words(p.text)), words(table))
})

t.test('a long paragraph is split on sentence boundaries into even parts', async (t) => {
  const sentences = Array.from({ length: 21 }, (_, i) => `Sentence ${i} has exactly six words.`)
  const text = sentences.join(' ')
  const passages = splitIntoPassages(text, { maxWords: 100 })
  t.equal(passages.length, 2)
  for (const p of passages) {
    t.ok(words(p.text).length <= 100)
    t.ok(p.text.endsWith('.'), 'ends at a sentence end')
  }
  t.ok(Math.abs(words(passages[0]?.text ?? '').length - words(passages[1]?.text ?? '').length) <= 6, 'parts are about equal')
  t.same(passages.flatMap((p) => words(p.text)), words(text))
})

t.test('a single over-long sentence is cut between words', async (t) => {
  const text = Array.from({ length: 450 }, (_, i) => `w${i}`).join(' ')
  const passages = splitIntoPassages(text)
  t.equal(DEFAULT_MAX_WORDS, 200)
  t.same(passages.map((p) => words(p.text).length), [150, 150, 150])
  t.same(passages.flatMap((p) => words(p.text)), words(text))
})

t.test('fenced code keeps its blank lines and # lines', async (t) => {
  const md = '## Config\nSet it:\n\n```sh\n# not a heading\n\nexport X=1\n```\n\nDone.'
  const passages = splitIntoPassages(md)
  t.equal(passages.length, 1)
  t.equal(passages[0]?.heading, 'Config')
  t.equal(passages[0]?.text, 'Set it:\n\n```sh\n# not a heading\n\nexport X=1\n```\n\nDone.')
})

t.test('an unclosed fence keeps its text', async (t) => {
  t.same(splitIntoPassages('```\ncode\n\nmore').map((p) => p.text), ['```\ncode\n\nmore'])
})

t.test('a document of only headings keeps the headings as text', async (t) => {
  t.same(splitIntoPassages('# Title\n## Sub'), [{ ordinal: 0, text: 'Title\nSub' }])
})

t.test('invalid maxWords falls back to the default', async (t) => {
  const text = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ')
  for (const maxWords of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.equal(splitIntoPassages(text, { maxWords }).length, 2, String(maxWords))
  }
})

t.test('splitSentences keeps abbreviations, initials and decimals together', async (t) => {
  t.same(splitSentences('See Fig. 2 and e.g. the API. J. Smith et al. agree! Really? Yes… pi is 3.14.'), [
    'See Fig. 2 and e.g. the API.',
    'J. Smith et al. agree!',
    'Really?',
    'Yes…',
    'pi is 3.14.'
  ])
  t.same(splitSentences('lowercase text . with spaced periods . works'), ['lowercase text .', 'with spaced periods .', 'works'])
  t.same(splitSentences('  '), [])
})

t.test('sentences and table rows, with where each is in the text', async (t) => {
  const text = '  Intro, e.g. this one.  Then   more!\n| a | b |\n|---|:-:|\n  | c | d |  \nLast line'
  const units = ['Intro, e.g. this one.', 'Then   more!', '| a | b |', '| c | d |', 'Last line']
  t.same(splitSentencesAndRows(text), units)
  const spans = sentenceAndRowSpans(text)
  t.same(units.map((_, i) => text.slice(spans[2 * i], spans[2 * i + 1])), units)
  t.same(sentenceAndRowSpans(''), [])
})

t.test('property: the units are the text\'s slices at their spans, and the same for the text trimmed', async (t) => {
  // The search quotes the trimmed passage from offsets into the passage as it was indexed.
  const text = fc.array(fc.oneof(
    fc.constantFrom('alpha', 'beta.', 'Mr.', 'J.', 'x…', '"quoted."', '|', '| a | b |', '|---|', ' ', '\n', '\t', '\u00A0', '\u2028'),
    fc.string({ unit: 'grapheme', maxLength: 4 })
  ), { maxLength: 40 }).map((parts) => parts.join(''))
  fc.assert(fc.property(text, (sample) => {
    const units = splitSentencesAndRows(sample)
    const spans = sentenceAndRowSpans(sample)
    return spans.length === 2 * units.length &&
      units.every((unit, i) => sample.slice(spans[2 * i], spans[2 * i + 1]) === unit) &&
      JSON.stringify(splitSentencesAndRows(sample.trim())) === JSON.stringify(units)
  }), { numRuns: 2000 })
  t.pass('held')
})

t.test('property: total, ordinals in order, no passage over maxWords, no text lost in plain prose', async (t) => {
  const prose = fc.array(fc.oneof(
    fc.constantFrom('alpha', 'beta.', 'Gamma!', 'delta?', 'e.g.', 'x', '\n\n', '\n', '  '),
    fc.string({ unit: 'grapheme-ascii', maxLength: 8 })
  ), { maxLength: 80 }).map((parts) => parts.join(' '))
  fc.assert(fc.property(prose, fc.integer({ min: 1, max: 30 }), (text, maxWords) => {
    const passages = splitIntoPassages(text, { maxWords })
    if (passages.length === 0) return false
    if (passages.some((p, i) => p.ordinal !== i || words(p.text).length > maxWords)) return false
    // Without Markdown syntax in the input every word must come out, in order.
    if (!/[#`~=\-*_]/.test(text)) {
      return JSON.stringify(passages.flatMap((p) => words(p.text))) === JSON.stringify(words(text))
    }
    return true
  }), { numRuns: 500 })
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
    const passages = splitIntoPassages(text, { maxWords: 5 })
    return passages.length > 0 && passages.every((p, i) => p.ordinal === i && typeof p.text === 'string')
  }), { numRuns: 500 })
  t.pass('properties held')
})
