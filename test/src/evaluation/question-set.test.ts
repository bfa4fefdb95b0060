import t from 'tap'
import { expectedIds, parseQuestionLines, QuestionFileError, questionLineNumbers } from '../../../src/evaluation/question-set.js'

const lines = (...values: unknown[]): string => values.map(value => typeof value === 'string' ? value : JSON.stringify(value)).join('\n')
const problem = (text: string, limit?: number): string => {
  try {
    parseQuestionLines(text, limit)
  } catch (error) {
    if (error instanceof QuestionFileError) return error.message
    throw error
  }
  return 'no error'
}

t.test('a line names its question, the document(s) that should answer it or none, and an optional label', async t => {
  const questions = parseQuestionLines(lines(
    { question: 'How do refunds work?', expected: 'refunds' },
    '',
    { question: 'Where is my parcel?', expected: ['shipping', 'tracking', 'shipping'], id: 'q2' },
    { question: 'What is the weather?', expected: null },
    { question: 'Tell me a joke', expected: 'none' },
    '   '
  ))
  t.same(questions, [
    { id: null, question: 'How do refunds work?', expected: ['refunds'] },
    { id: 'q2', question: 'Where is my parcel?', expected: ['shipping', 'tracking'] },
    { id: null, question: 'What is the weather?', expected: [] },
    { id: null, question: 'Tell me a joke', expected: [] }
  ])
  t.same(questionLineNumbers(lines({ question: 'a', expected: 'x' }, '', '  ', { question: 'b', expected: 'y' }, '')), [1, 4], 'each question\'s line, blank ones counted')
  t.same(expectedIds(['none']), [], '["none"] is out of scope too')
  t.same(parseQuestionLines('\uFEFF{"question":"a","expected":"x"}\r\n'), [{ id: null, question: 'a', expected: ['x'] }], 'a BOM and CRLF are fine')
})

t.test('the first bad line stops the file, naming its number, the field and the limit', async t => {
  const good = { question: 'ok?', expected: 'doc' }
  t.equal(problem(lines(good, '', '{not json')), 'line 3: not valid JSON (' + problem('{not json').replace(/^line 1: not valid JSON \(/, ''))
  t.match(problem(lines(good, '[1]')), /^line 2: must be a JSON object/)
  t.match(problem(lines(good, { question: 'x', expected: 'a', extra: 1 })), /^line 2: "extra" is not a field \(a line has question, expected and, optionally, id\)/)
  t.match(problem(lines({ expected: 'a' })), /^line 1: question must be a string of 1 to 4000 characters/)
  t.match(problem(lines({ question: '   ', expected: 'a' })), /^line 1: question must be a string of 1 to 4000 characters, not blank$/)
  t.match(problem(lines({ question: 'x'.repeat(4001), expected: 'a' })), /^line 1: question must be a string of 1 to 4000 characters, not blank \(it has 4001\)/)
  t.match(problem(lines({ question: 'a\u0000b', expected: 'a' })), /^line 1: question must not contain NUL/)
  t.match(problem(lines(good, good, good, good, good, good, { question: 'x', expected: 42 })), /^line 7: expected must be a document id, an array of 1 to 20 ids, or null/)
  t.match(problem(lines({ question: 'x' })), /^line 1: expected is missing: expected must be/)
  t.match(problem(lines({ question: 'x', expected: [] })), /^line 1: expected must be/, 'an empty array is not "none"')
  t.match(problem(lines({ question: 'x', expected: ['ok', 'not an id'] })), /^line 1: expected must be/)
  t.match(problem(lines({ question: 'x', expected: Array.from({ length: 21 }, (_, i) => `d${i}`) })), /^line 1: expected must be .*1 to 20 ids/)
  t.match(problem(lines({ question: 'x', expected: 'a', id: '' })), /^line 1: id must be a string of 1 to 200 characters/)
  t.match(problem(''), /the file holds no questions/)
})

t.test('a run takes at most 5,000 questions; the line past the limit is named', async t => {
  const many = Array.from({ length: 5001 }, (_, i) => JSON.stringify({ question: `q${i}`, expected: 'doc' })).join('\n')
  t.equal(problem(many), 'line 5001: more than 5,000 questions: a run takes at most 5,000')
  t.equal(parseQuestionLines(many.split('\n').slice(0, 5000).join('\n')).length, 5000)
  t.equal(problem(lines({ question: 'a', expected: null }, { question: 'b', expected: null }), 1), 'line 2: more than 1 questions: a run takes at most 1')
})
