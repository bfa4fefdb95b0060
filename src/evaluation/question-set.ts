// A team's test questions as JSON Lines, one {"question", "expected", "id"?} per line, checked
// whole before anything runs or is stored: the first bad line stops it with its number, its field
// and the limit, so a file is used entirely or not at all.
import { DOCUMENT_LIMITS } from '../kb/document-files.js'
import { BadRequestError } from '../errors.js'
import { OUT_OF_SCOPE, QUESTION_LIMITS, type QuestionInput } from './evaluation-schemas.js'

/** A question as the evaluator takes it: expected ids, none when it is out of scope. */
export interface TestQuestion {
  id: string | null
  question: string
  expected: string[]
}

/** A question file that cannot be used; the message names the line, the field and the limit. */
export class QuestionFileError extends BadRequestError {
  constructor (readonly line: number | undefined, message: string) {
    super(line === undefined ? message : `line ${line}: ${message}`)
  }
}

const DOCUMENT_ID = new RegExp(DOCUMENT_LIMITS.idPattern)
const FIELDS = new Set(['question', 'expected', 'id'])
const EXPECTED_RULE = `expected must be a document id, an array of 1 to ${QUESTION_LIMITS.expectedMax} ids, ` +
  `or null (or "${OUT_OF_SCOPE}") for a question out of scope`

/** The expected ids of a question whose shape is valid; [] for out of scope ("none" or null). */
export function expectedIds (expected: QuestionInput['expected']): string[] {
  if (expected === null) return []
  const ids = typeof expected === 'string' ? [expected] : expected
  // "none" alone means out of scope; beside real ids it would only be a document no one has.
  return ids.length === 1 && ids[0] === OUT_OF_SCOPE ? [] : [...new Set(ids)]
}

export function toTestQuestion (input: QuestionInput): TestQuestion {
  return { id: input.id ?? null, question: input.question, expected: expectedIds(input.expected) }
}

/** The problem with one parsed line, or undefined when it is a valid question. */
function lineProblem (value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'must be a JSON object such as {"question": "…", "expected": "<document id>"}'
  }
  const line = value as Record<string, unknown>
  const unknown = Object.keys(line).find(key => !FIELDS.has(key))
  if (unknown !== undefined) {
    return `${JSON.stringify(unknown)} is not a field (a line has question, expected and, optionally, id)`
  }
  const { question, expected, id } = line
  if (typeof question !== 'string' || question.trim() === '' || question.length > QUESTION_LIMITS.questionMax) {
    const tooLong = typeof question === 'string' && question.length > QUESTION_LIMITS.questionMax
    return `question must be a string of 1 to ${QUESTION_LIMITS.questionMax} characters, not blank` +
      `${tooLong ? ` (it has ${question.length})` : ''}`
  }
  if (question.includes('\u0000')) return 'question must not contain NUL characters (U+0000)'
  if (!('expected' in line)) return `expected is missing: ${EXPECTED_RULE}`
  const ids = typeof expected === 'string'
    ? [expected]
    : Array.isArray(expected) ? expected : expected === null ? [] : undefined
  const validIds = ids !== undefined &&
    (!Array.isArray(expected) || (expected.length >= 1 && expected.length <= QUESTION_LIMITS.expectedMax)) &&
    ids.every(item => typeof item === 'string' && DOCUMENT_ID.test(item))
  if (!validIds) return EXPECTED_RULE
  if (id !== undefined &&
    (typeof id !== 'string' || id.length < 1 || id.length > QUESTION_LIMITS.labelMax || id.includes('\u0000'))) {
    return `id must be a string of 1 to ${QUESTION_LIMITS.labelMax} characters`
  }
  return undefined
}

/** The lines of a JSON Lines text that are not blank, with their numbers as an editor shows them. */
function filledLines (text: string): Array<{ number: number, raw: string }> {
  return text.replace(/^\uFEFF/, '').split(/\r?\n/)
    .flatMap((raw, index) => raw.trim() === '' ? [] : [{ number: index + 1, raw }])
}

/** The line each question of a JSON Lines text is on, in order: a message about a question names it. */
export function questionLineNumbers (text: string): number[] {
  return filledLines(text).map(({ number }) => number)
}

/** The questions of a JSON Lines text; blank lines are skipped but counted, so numbers match an editor's. */
export function parseQuestionLines (text: string, limit: number = QUESTION_LIMITS.perRun): TestQuestion[] {
  const questions: TestQuestion[] = []
  for (const { number, raw } of filledLines(text)) {
    if (questions.length === limit) {
      const most = limit.toLocaleString('en-US')
      throw new QuestionFileError(number, `more than ${most} questions: a run takes at most ${most}`)
    }
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch (error) {
      throw new QuestionFileError(number, `not valid JSON (${(error as Error).message})`)
    }
    const problem = lineProblem(value)
    if (problem !== undefined) throw new QuestionFileError(number, problem)
    questions.push(toTestQuestion(value as QuestionInput))
  }
  if (questions.length === 0) {
    throw new QuestionFileError(
      undefined,
      'the file holds no questions: one JSON object per line, such as {"question": "…", "expected": "<document id>"}'
    )
  }
  return questions
}
