// A document cut into passages of a few sentences, each under its heading: a turn quotes and
// scores the passage that answers, not the whole page, and a long page's one relevant paragraph
// is not drowned by the rest of it.
export interface Passage {
  /** 0-based position of the passage in its document. */
  ordinal: number
  /** Text of the nearest Markdown heading above the passage, if any. */
  heading?: string
  text: string
}

export interface SplitOptions {
  /**
   * Upper bound on the words in a passage. Passages are the unit BM25 scores (a
   * document ranks by its best passage) and the unit shown to the user, so they
   * should hold about one topic: a section of user docs, or a third of a page.
   */
  maxWords?: number
}

export const DEFAULT_MAX_WORDS = 200

interface Block {
  heading?: string
  /** Index of the heading section the block is in: merging never crosses sections. */
  section: number
  text: string
  words: number
  /** Code blocks and tables are split on lines, not sentences, when too long: a row is a unit. */
  byLines: boolean
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/
const FENCE = /^ {0,3}(`{3,}|~{3,})/
const SETEXT_UNDERLINE = /^ {0,3}(={2,}|-{2,})[ \t]*$/
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/
const BLANK = /^[ \t]*$/
const TABLE_ROW = /^\s*\|/
const TABLE_RULE = /^\s*\|[\s|:-]*$/

export const isTableRow = (line: string): boolean => TABLE_ROW.test(line)

function countWords (text: string): number {
  let n = 0
  for (const w of text.split(/\s+/)) if (w.length > 0) n++
  return n
}

function isSpace (code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xA0 || code === 0x2028 || code === 0x2029
}

// Abbreviations that end with a period but rarely end a sentence; without this
// list "e.g. the" or "Smith et al. found" would be cut in two. Ones that often do end
// a sentence ("etc.", "Inc.", "no.") are left out: a cut too many is the lesser harm.
const ABBREVIATIONS = new Set([
  'e.g', 'i.e', 'al', 'vs', 'cf', 'fig', 'figs', 'eq', 'eqs', 'approx',
  'dr', 'mr', 'mrs', 'ms', 'prof', 'vol', 'ref', 'refs', 'resp'
])

/**
 * Appends to `spans` where each sentence of text.slice(from, to) starts and ends in text (as
 * splitSentences cuts it), so that a caller can keep offsets instead of copies of the sentences.
 */
function sentenceSpans (text: string, from: number, to: number, spans: number[]): void {
  // Cut out first: the look-ahead for white space must not see past `to`.
  const source = from === 0 && to === text.length ? text : text.slice(from, to)
  const boundary = /[.!?\u2026]+["'\u2019\u201d)\]]*(?=\s)/g
  const push = (start: number, end: number): void => {
    const raw = source.slice(start, end)
    const trimmed = raw.trim()
    if (trimmed.length === 0) return
    const first = from + start + raw.length - raw.trimStart().length
    spans.push(first, first + trimmed.length)
  }
  let start = 0
  for (const m of source.matchAll(boundary)) {
    const end = m.index + m[0].length
    let wordStart = m.index
    while (wordStart > start && !isSpace(source.charCodeAt(wordStart - 1))) wordStart--
    const lastWord = source.slice(wordStart, m.index).toLowerCase()
    // A single letter before "." is an initial ("J. Smith"), not a sentence end;
    // a period straight after a digit is a sentence end ("in 2019.").
    if (m[0].startsWith('.') && m[0].length === 1 &&
        (ABBREVIATIONS.has(lastWord) || /^\p{L}$/u.test(lastWord))) continue
    push(start, end)
    start = end
  }
  push(start, source.length)
}

function slices (text: string, spans: number[]): string[] {
  const units: string[] = []
  for (let i = 0; i < spans.length; i += 2) units.push(text.slice(spans[i], spans[i + 1]))
  return units
}

/**
 * Splits prose into sentences on ., ! or ? (and …) followed by white space, keeping
 * abbreviations and initials together. Never returns empty strings; text with no
 * sentence end comes back whole.
 */
export function splitSentences (text: string): string[] {
  if (typeof text !== 'string') return []
  const spans: number[] = []
  sentenceSpans(text, 0, text.length, spans)
  return slices(text, spans)
}

/**
 * Where each unit of splitSentencesAndRows starts and ends in text: [start, end, start, end, …],
 * each unit being text.slice(start, end).
 */
export function sentenceAndRowSpans (text: string): number[] {
  const spans: number[] = []
  // The prose lines since the last table row: from where the first starts to where the last ends.
  let proseStart = -1
  let proseEnd = 0
  const flush = (): void => {
    if (proseStart >= 0) sentenceSpans(text, proseStart, proseEnd, spans)
    proseStart = -1
  }
  for (let lineStart = 0; lineStart <= text.length;) {
    const newline = text.indexOf('\n', lineStart)
    const lineEnd = newline < 0 ? text.length : newline
    const line = text.slice(lineStart, lineEnd)
    if (!TABLE_ROW.test(line)) {
      if (proseStart < 0) proseStart = lineStart
      proseEnd = lineEnd
    } else {
      flush()
      if (!TABLE_RULE.test(line)) {
        const first = lineStart + line.length - line.trimStart().length
        spans.push(first, first + line.trim().length)
      }
    }
    lineStart = lineEnd + 1
  }
  flush()
  return spans
}

/**
 * The text's sentences, except that each row of a Markdown table is a unit of its own: a table
 * has no sentence ends, and cut anywhere it quotes half a row. Rule rows (| --- |) are left out.
 */
export function splitSentencesAndRows (text: string): string[] {
  return slices(text, sentenceAndRowSpans(text))
}

/** Splits an over-long run of words into nearly equal chunks at word boundaries. */
function splitWords (text: string, maxWords: number): string[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0)
  const parts = Math.ceil(words.length / maxWords)
  const size = Math.ceil(words.length / parts)
  const chunks: string[] = []
  for (let i = 0; i < words.length; i += size) chunks.push(words.slice(i, i + size).join(' '))
  return chunks
}

/**
 * Packs units (sentences or lines) into chunks of at most maxWords, aiming at equal
 * sizes so a 210-word paragraph becomes 105 + 105 rather than 200 + 10: a tiny tail
 * passage would rank on too little text.
 */
function pack (units: string[], maxWords: number, joiner: string): string[] {
  const sized: Array<{ text: string, words: number }> = []
  for (const unit of units) {
    const words = countWords(unit)
    if (words > maxWords) {
      for (const piece of splitWords(unit, maxWords)) sized.push({ text: piece, words: countWords(piece) })
    } else if (words > 0) {
      sized.push({ text: unit, words })
    }
  }
  const total = sized.reduce((sum, u) => sum + u.words, 0)
  const target = total / Math.max(1, Math.ceil(total / maxWords))
  const chunks: string[][] = []
  let current: string[] = []
  let currentWords = 0
  let previousWords = 0
  for (const unit of sized) {
    // Close the chunk when the unit would overflow it, or when more than half of the
    // unit would land past the target size.
    const overflow = currentWords + unit.words > maxWords
    const pastTarget = currentWords > 0 && currentWords + unit.words / 2 > target
    if (current.length > 0 && (overflow || pastTarget)) {
      chunks.push(current)
      previousWords = currentWords
      current = []
      currentWords = 0
    }
    current.push(unit.text)
    currentWords += unit.words
  }
  // Units of uneven sizes (a table's rows) can still leave a short tail: it joins the chunk
  // before where that fits ("| `schema_migrations` | Applied migrations |" alone out-ranked the
  // table it ends on the page's title and heading).
  const last = chunks.at(-1)
  if (last !== undefined && currentWords < target / 4 && previousWords + currentWords <= maxWords) last.push(...current)
  else if (current.length > 0) chunks.push(current)
  return chunks.map(units => units.join(joiner))
}

/** A paragraph that ends with a colon: it introduces the block after it. */
function introduces (block: Block): boolean {
  return !block.byLines && block.text.endsWith(':')
}

function headingText (raw: string): string {
  return raw.trim().replace(/\s+/g, ' ')
}

/** Reads Markdown into paragraph blocks, each tagged with the heading above it. */
function readBlocks (markdown: string): { blocks: Block[], headings: string[] } {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n')
  const blocks: Block[] = []
  const headings: string[] = []
  let heading: string | undefined
  let section = 0
  let paragraph: string[] = []
  let fence: string | undefined
  let code: string[] = []

  const flush = (): void => {
    if (paragraph.length === 0) return
    const text = paragraph.join('\n').trim()
    const table = paragraph.every(line => TABLE_ROW.test(line))
    paragraph = []
    if (text.length > 0) blocks.push({ heading, section, text, words: countWords(text), byLines: table })
  }
  const setHeading = (text: string): void => {
    section++
    heading = headingText(text)
    if (heading.length === 0) heading = undefined
    else headings.push(heading)
  }

  for (const line of lines) {
    if (fence !== undefined) {
      code.push(line)
      if (line.trim().startsWith(fence)) {
        const text = code.join('\n')
        blocks.push({ heading, section, text, words: countWords(text), byLines: true })
        fence = undefined
        code = []
      }
      continue
    }
    const fenceOpen = FENCE.exec(line)
    if (fenceOpen !== null) {
      flush()
      fence = fenceOpen[1] ?? '```'
      code = [line]
      continue
    }
    const atx = ATX_HEADING.exec(line)
    if (atx !== null) {
      flush()
      setHeading(atx[2] ?? '')
      continue
    }
    if (SETEXT_UNDERLINE.test(line) && paragraph.length === 1) {
      // "Title\n=====" : only a one-line paragraph, so that a list followed by
      // a "---" rule does not turn into a heading.
      setHeading(paragraph[0] ?? '')
      paragraph = []
      continue
    }
    if (BLANK.test(line) || THEMATIC_BREAK.test(line)) {
      flush()
      continue
    }
    paragraph.push(line)
  }
  if (fence !== undefined && code.length > 0) {
    // An unclosed fence keeps its text: dropping it would make content unsearchable.
    const text = code.join('\n')
    blocks.push({ heading, section, text, words: countWords(text), byLines: true })
  }
  flush()
  return { blocks, headings }
}

/**
 * Splits a Markdown (or plain text) document into passages for indexing and display.
 *
 * - A new passage starts at every heading; the passage carries that heading.
 * - Consecutive paragraphs under one heading are merged while the result stays within
 *   maxWords, so short paragraphs do not become passages of their own.
 * - A paragraph longer than maxWords is split on sentence boundaries (code blocks and
 *   tables on lines) into nearly equal parts; a single over-long sentence is cut between words.
 * - A paragraph ending with a colon opens the passage of the block it introduces, in its
 *   section, where both fit within maxWords.
 *
 * Total: never throws, and always returns at least one passage, so every stored
 * document has a passage row to point at. Empty or blank text gives
 * `[{ ordinal: 0, text: '' }]`; a document of only headings gives passages whose
 * text is the headings, one a line.
 */
export function splitIntoPassages (text: string, options: SplitOptions = {}): Passage[] {
  const requested = options.maxWords
  const maxWords = typeof requested === 'number' && Number.isFinite(requested) && requested >= 1
    ? Math.floor(requested)
    : DEFAULT_MAX_WORDS
  const source = typeof text === 'string' ? text : ''
  const { blocks, headings } = readBlocks(source)

  const passages: Passage[] = []
  const emit = (heading: string | undefined, body: string): void => {
    const passage: Passage = { ordinal: passages.length, text: body }
    if (heading !== undefined) passage.heading = heading
    passages.push(passage)
  }

  const chunksOf = (block: Block): string[] =>
    pack(block.byLines ? block.text.split('\n') : splitSentences(block.text), maxWords, block.byLines ? '\n' : ' ')
  // The words of the passage a block opens: all of it, or its first part where it is split.
  const openingWords = (block: Block): number =>
    block.words > maxWords ? countWords(chunksOf(block)[0] ?? '') : block.words

  // A paragraph that introduces what follows it ("Parley creates these tables:") opens the passage
  // of what it introduces where both fit: alone, it answered with a lead-in and no table. It is
  // moved only where it will be placed, so it is never left alone where it was not before.
  let leadIn: Block | undefined
  let i = 0
  while (i < blocks.length) {
    const first = blocks[i] as Block
    if (first.words > maxWords) {
      const chunks = chunksOf(first)
      if (leadIn !== undefined) chunks[0] = `${leadIn.text}\n\n${chunks[0] ?? ''}`
      leadIn = undefined
      for (const chunk of chunks) emit(first.heading, chunk)
      i++
      continue
    }
    const group = leadIn === undefined ? [first] : [leadIn, first]
    leadIn = undefined
    let words = group.reduce((sum, block) => sum + block.words, 0)
    let j = i + 1
    for (; j < blocks.length; j++) {
      const next = blocks[j] as Block
      if (next.section !== first.section || words + next.words > maxWords) break
      group.push(next)
      words += next.words
    }
    const next = blocks[j]
    const last = group.at(-1) as Block
    const before = group.at(-2)
    // Two lead-ins in a row stay together where they are: moving the second would strand the first.
    const moves = next !== undefined && next.section === first.section && introduces(last) &&
      (before === undefined || !introduces(before)) && last.words + openingWords(next) <= maxWords
    if (moves) leadIn = group.pop()
    if (group.length > 0) emit(first.heading, group.map(block => block.text).join('\n\n'))
    i = j
  }

  if (passages.length === 0) {
    for (const chunk of pack(headings, maxWords, '\n')) emit(undefined, chunk)
    if (passages.length === 0) emit(undefined, '')
  }
  return passages
}
