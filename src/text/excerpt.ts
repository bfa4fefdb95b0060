// Users' words quoted where they are read rather than studied: a table's cell, a line of a
// transcript. Counted in graphemes, so that an emoji or an accented letter is never cut in half.
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })
const counted = new Intl.NumberFormat('en-US')

// Printable ASCII, tabs and line feeds: each character one grapheme (a carriage return before a
// line feed would make the pair one).
const ONE_UNIT_GRAPHEMES = /^[\t\n\x20-\x7e]*$/

/** The text, or its first max graphemes and how long it is. */
export function excerpt (text: string, max: number): string {
  // A grapheme is at least one UTF-16 unit: a text no longer than max in units is whole, and is
  // not segmented (a /history turn quotes every message it lists). Most are ASCII, whose length
  // is its count: segmenting a 400-character answer took 30 µs.
  if (text.length <= max) return text
  if (ONE_UNIT_GRAPHEMES.test(text)) {
    return `${text.slice(0, max - 1)}… (${counted.format(text.length)} characters)`
  }
  let kept = ''
  let count = 0
  for (const { segment } of graphemes.segment(text)) {
    if (count < max - 1) kept += segment
    count++
  }
  return count <= max ? text : `${kept}… (${counted.format(count)} characters)`
}
