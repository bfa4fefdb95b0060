// Users' words quoted where they are read rather than studied: a table's cell, a line of a
// transcript. Counted in graphemes, so that an emoji or an accented letter is never cut in half.
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/** The text, or its first max graphemes and how long it is. */
export function excerpt (text: string, max: number): string {
  // A grapheme is at least one UTF-16 unit: a text no longer than max in units is whole, and is
  // not segmented (a /history turn quotes every message it lists).
  if (text.length <= max) return text
  let kept = ''
  let count = 0
  for (const { segment } of graphemes.segment(text)) {
    if (count < max - 1) kept += segment
    count++
  }
  return count <= max ? text : `${kept}… (${count.toLocaleString('en-US')} characters)`
}
