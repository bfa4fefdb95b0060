// The prompt that has a language model write an answer from the knowledge base's passages only,
// and the check of what comes back: every citation must name a passage the model was given, and
// there must be one. A reply that fails the check is not sent (the turn falls back to the passage).
// The prompt's id and version are recorded on the turn: change the text, raise the version.

export const GROUNDED_PROMPT = { id: 'grounded-answer', version: 2 } as const
export const PROMPT_LABEL = `${GROUNDED_PROMPT.id}@${GROUNDED_PROMPT.version}`

/** A passage as the prompt numbers it: the search's passage (search/passages.ts) under its document's title. */
export interface PromptPassage {
  title: string
  text: string
}

export interface PromptMessage {
  role: 'system' | 'user'
  content: string
}

const SYSTEM = [
  'You are a support assistant. Answer the question using only the numbered passages below.',
  'Cite every passage you use with its number in square brackets, such as [1], right after the sentence that uses it.',
  'If the passages do not answer the question, say that you do not know. Never cite a number that is not listed.',
  'Answer in the language of the question, in at most five sentences, in plain text.'
].join(' ')

/**
 * A follow-up ("and what is the default?") names its topic only through the question before it,
 * which then comes first (version 2; version 1 sent the follow-up alone).
 */
export function groundedMessages (
  question: string,
  passages: readonly PromptPassage[],
  earlierQuestion?: string
): PromptMessage[] {
  const numbered = passages.map((passage, i) => `[${i + 1}] ${passage.title}\n${passage.text}`).join('\n\n')
  return [
    { role: 'system', content: `${SYSTEM}\n\nPassages:\n\n${numbered}` },
    {
      role: 'user',
      content: earlierQuestion === undefined
        ? question
        : `Earlier question: ${earlierQuestion}\nFollow-up question: ${question}`
    }
  ]
}

// [1], [2, 3] and [1][2]: each bracketed list of numbers is a citation.
const CITATION = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g

export type CitationCheck =
  | { ok: true, cited: number[] }
  | { ok: false, reason: 'no_citation' | 'unknown_citation', cited: number[] }

/** The passages a reply cites (1-based, in order of first citation), and whether each was given. */
export function checkCitations (reply: string, passageCount: number): CitationCheck {
  const cited: number[] = []
  for (const match of reply.matchAll(CITATION)) {
    for (const number of match[1]!.split(',').map(Number)) if (!cited.includes(number)) cited.push(number)
  }
  if (cited.length === 0) return { ok: false, reason: 'no_citation', cited }
  if (cited.some(number => number < 1 || number > passageCount)) return { ok: false, reason: 'unknown_citation', cited }
  return { ok: true, cited }
}
