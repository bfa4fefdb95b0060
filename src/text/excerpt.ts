// Users' words quoted where they are read rather than studied: a table's cell, a line of a
// transcript. Counted in graphemes, so that an emoji or an accented letter is never cut in half.
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/** The text, or its first max graphemes and how long it is. */
export function excerpt (text: string, max: number): string {
  const parts = Array.from(graphemes.segment(text), part => part.segment)
  return parts.length <= max
    ? text
    : `${parts.slice(0, max - 1).join('')}… (${parts.length.toLocaleString('en-US')} characters)`
}
