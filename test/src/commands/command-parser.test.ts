import assert from 'node:assert/strict'
import t from 'tap'
import fc from 'fast-check'
import {
  COMMANDS,
  FEEDBACK_COMMENT_MAX,
  HISTORY_COUNT,
  SEARCH_K,
  helpText,
  parseMessage,
  type Command,
  type CommandName,
  type ParsedMessage
} from '../../../src/commands/command-parser.js'

const NAMES = COMMANDS.map(c => c.name)
const USAGES = COMMANDS.map(c => c.usage)
const LIST = '/help, /search, /history, /reset, /feedback'
const usage = (name: CommandName): string => (COMMANDS.find(c => c.name === name) as { usage: string }).usage

type Case = [input: string, expected: ParsedMessage]

function testCases (name: string, cases: Case[]): void {
  t.test(name, async t => {
    for (const [input, expected] of cases) {
      const label = JSON.stringify(input)
      t.strictSame(parseMessage(input), expected, label.length > 60 ? `${label.slice(0, 60)}...` : label)
    }
  })
}

const cmd = (command: Command): ParsedMessage => ({ type: 'command', command })

const bad = (command: CommandName, reason: string, extra: { suggestion?: CommandName } = {}): ParsedMessage =>
  ({ type: 'invalid', command, reason, usage: usage(command), ...extra })

t.test('COMMANDS lists every command in order with its usage line', async t => {
  t.strictSame(NAMES, ['help', 'search', 'history', 'reset', 'feedback'])
  t.strictSame(USAGES, ['/help [command]', '/search <query> [--k N] [--in COLLECTION]', '/history [n]', '/reset', '/feedback up|down [comment]'])
  for (const spec of COMMANDS) t.ok(spec.summary.length > 0, `${spec.name} has a summary`)
  t.ok(Object.isFrozen(COMMANDS))
  t.strictSame(SEARCH_K, { min: 1, max: 100, default: 5 })
  t.strictSame(HISTORY_COUNT, { min: 1, max: 50, default: 10 })
})

t.test('helpText', async t => {
  const all = helpText()
  for (const spec of COMMANDS) {
    t.ok(all.includes(spec.usage), `general help shows ${spec.usage}`)
    const one = helpText(spec.name)
    t.ok(one.startsWith(spec.usage), `help for ${spec.name} starts with its usage`)
    t.ok(one.includes(spec.summary))
  }
  t.match(all, /does not start with \/ is a question/)
})

testCases('questions', [
  ['What are your opening hours?', { type: 'question', text: 'What are your opening hours?' }],
  ['  \t padded question \u00a0\n', { type: 'question', text: 'padded question' }],
  ['a/b is not a command', { type: 'question', text: 'a/b is not a command' }],
  ['\0', { type: 'question', text: '\0' }],
  ['\ud800 lone surrogate', { type: 'question', text: '\ud800 lone surrogate' }]
])

const empty = { type: 'invalid', reason: 'The message is empty; type a question, or /help for commands.' } as const
const slash = { type: 'invalid', reason: `A command name must follow the /. Available commands: ${LIST}.` } as const
testCases('empty and slash-only input', [
  ['', empty],
  [' \t\n\u00a0\u3000', empty],
  ['/', slash],
  ['  /  ', slash],
  ['/\t', slash]
])

const unknown = (command: string, shown: string, suggestion?: CommandName): ParsedMessage => suggestion === undefined
  ? { type: 'invalid', command, reason: `Unknown command /${shown}. Available commands: ${LIST}.` }
  : { type: 'invalid', command, reason: `Unknown command /${shown}. Did you mean /${suggestion}?`, suggestion }
testCases('unknown commands', [
  ['/serch cats', unknown('serch', 'serch', 'search')],
  ['/SERCH', unknown('serch', 'serch', 'search')],
  ['/hlep', unknown('hlep', 'hlep', 'help')],
  ['/histroy 3', unknown('histroy', 'histroy', 'history')],
  ['/rest', unknown('rest', 'rest', 'reset')],
  ['/feedbak up', unknown('feedbak', 'feedbak', 'feedback')],
  ['//help', unknown('/help', '/help', 'help')],
  ['/xyz', unknown('xyz', 'xyz')],
  ['/h', unknown('h', 'h')],
  ['/weather today', unknown('weather', 'weather')],
  ['/usr/bin/env', unknown('usr/bin/env', 'usr/bin/env')],
  ['/' + 'x'.repeat(40), unknown('x'.repeat(40), 'x'.repeat(24) + '…')]
])

testCases('/help', [
  ['/help', cmd({ name: 'help' })],
  ['/HELP', cmd({ name: 'help' })],
  ['  /Help  ', cmd({ name: 'help' })],
  ['/ help', cmd({ name: 'help' })],
  ['/help search', cmd({ name: 'help', topic: 'search' })],
  ['/help /search', cmd({ name: 'help', topic: 'search' })],
  ['/help\tHISTORY', cmd({ name: 'help', topic: 'history' })],
  ['/help "feedback"', cmd({ name: 'help', topic: 'feedback' })],
  ['/help /', cmd({ name: 'help' })],
  ['/help ""', cmd({ name: 'help' })],
  ['/help help', cmd({ name: 'help', topic: 'help' })],
  ['/help serch', bad('help', 'There is no /serch command. Did you mean /search?', { suggestion: 'search' })],
  ['/help /rset', bad('help', 'There is no /rset command. Did you mean /reset?', { suggestion: 'reset' })],
  ['/help weather', bad('help', `There is no /weather command. Available commands: ${LIST}.`)],
  ['/help search history', bad('help', '/help takes at most one command name.')]
])

const kRange = 'from 1 to 100'
testCases('/search', [
  ['/search cats', cmd({ name: 'search', query: 'cats', k: 5 })],
  ['/SEARCH  opening   hours ', cmd({ name: 'search', query: 'opening hours', k: 5 })],
  ['/search\u00a0opening\thours', cmd({ name: 'search', query: 'opening hours', k: 5 })],
  ['/search Rate Limits', cmd({ name: 'search', query: 'Rate Limits', k: 5 })],
  ['/search cats --k 3', cmd({ name: 'search', query: 'cats', k: 3 })],
  ['/search --k 3 cats', cmd({ name: 'search', query: 'cats', k: 3 })],
  ['/search big --k=7 cats', cmd({ name: 'search', query: 'big cats', k: 7 })],
  ['/search cats --K 100', cmd({ name: 'search', query: 'cats', k: 100 })],
  ['/search cats --k 1', cmd({ name: 'search', query: 'cats', k: 1 })],
  ['/search cats --k 007', cmd({ name: 'search', query: 'cats', k: 7 })],
  ['/search cats --k "4"', cmd({ name: 'search', query: 'cats', k: 4 })],
  ['/search "rate  limits" faq', cmd({ name: 'search', query: 'rate  limits faq', k: 5 })],
  ["/search 'opening hours' --k 2", cmd({ name: 'search', query: 'opening hours', k: 2 })],
  ['/search "--k 3"', cmd({ name: 'search', query: '--k 3', k: 5 })],
  ['/search "--k"', cmd({ name: 'search', query: '--k', k: 5 })],
  ["/search don't panic", cmd({ name: 'search', query: "don't panic", k: 5 })],
  ['/search "unclosed phrase --k 2', cmd({ name: 'search', query: '"unclosed phrase', k: 2 })],
  ["/search it's 'half", cmd({ name: 'search', query: "it's 'half", k: 5 })],
  ['/search "--verbose"', cmd({ name: 'search', query: '--verbose', k: 5 })],
  ['/search -- and -5', cmd({ name: 'search', query: '-- and -5', k: 5 })],
  // A mistyped option would otherwise be searched for, and read as a search that found nothing.
  ['/search parking --x 2', bad('search', '/search has no option "--x": it takes --k N and --in COLLECTION (quote it to search for it).')],
  ['/search --verbose', bad('search', '/search has no option "--verbose": it takes --k N and --in COLLECTION (quote it to search for it).')],
  ['/search', bad('search', '/search needs a query.')],
  ['/search   ', bad('search', '/search needs a query.')],
  ['/search --k 3', bad('search', '/search needs a query.')],
  ['/search "" \'  \'', bad('search', '/search needs a query.')],
  ['/search cats --k', bad('search', `--k needs a number ${kRange}.`)],
  ['/search cats --k=', bad('search', `--k needs a number ${kRange}.`)],
  ['/search cats --k 0', bad('search', `--k must be a whole number ${kRange}, not "0".`)],
  ['/search cats --k 101', bad('search', `--k must be a whole number ${kRange}, not "101".`)],
  ['/search cats --k=-1', bad('search', `--k must be a whole number ${kRange}, not "-1".`)],
  ['/search cats --k 2.5', bad('search', `--k must be a whole number ${kRange}, not "2.5".`)],
  ['/search cats --k five', bad('search', `--k must be a whole number ${kRange}, not "five".`)],
  ['/search cats --k 1e2', bad('search', `--k must be a whole number ${kRange}, not "1e2".`)],
  ['/search cats --k ' + '9'.repeat(400), bad('search', `--k must be a whole number ${kRange}, not "${'9'.repeat(24)}…".`)],
  ['/search cats --k 2 --k=3', bad('search', '--k can be given only once.')]
])

const notInRange = (got: string): string => `The history count must be a whole number from 1 to 50, not "${got}".`
testCases('/history', [
  ['/history', cmd({ name: 'history', count: 10 })],
  ['/HISTORY 1', cmd({ name: 'history', count: 1 })],
  ['/history\t50 ', cmd({ name: 'history', count: 50 })],
  ['/history "7"', cmd({ name: 'history', count: 7 })],
  ['/history 0', bad('history', notInRange('0'))],
  ['/history 51', bad('history', notInRange('51'))],
  ['/history -3', bad('history', notInRange('-3'))],
  ['/history lots', bad('history', notInRange('lots'))],
  ['/history 3.0', bad('history', notInRange('3.0'))],
  ['/history 3 4', bad('history', '/history takes at most one number.')]
])

testCases('/reset', [
  ['/reset', cmd({ name: 'reset' })],
  ['  /RESET \t', cmd({ name: 'reset' })],
  ['/reset now', bad('reset', '/reset takes no arguments.')],
  ['/reset ""', bad('reset', '/reset takes no arguments.')]
])

const long = 'é'.repeat(FEEDBACK_COMMENT_MAX)
testCases('/feedback', [
  ['/feedback up', cmd({ name: 'feedback', rating: 'up' })],
  ['/FEEDBACK Down', cmd({ name: 'feedback', rating: 'down' })],
  ['/feedback "UP"', cmd({ name: 'feedback', rating: 'up' })],
  ['/feedback up   ', cmd({ name: 'feedback', rating: 'up' })],
  ['/feedback up ""', cmd({ name: 'feedback', rating: 'up' })],
  ['/feedback down  too slow,   sorry ', cmd({ name: 'feedback', rating: 'down', comment: 'too slow,   sorry' })],
  ['/feedback down "too slow"', cmd({ name: 'feedback', rating: 'down', comment: 'too slow' })],
  ["/feedback down ' padded '", cmd({ name: 'feedback', rating: 'down', comment: 'padded' })],
  ['/feedback up "great" answer', cmd({ name: 'feedback', rating: 'up', comment: '"great" answer' })],
  ["/feedback up 'twas fine, wasn't it", cmd({ name: 'feedback', rating: 'up', comment: "'twas fine, wasn't it" })],
  ['/feedback up line one\nline two', cmd({ name: 'feedback', rating: 'up', comment: 'line one\nline two' })],
  [`/feedback up ${long}`, cmd({ name: 'feedback', rating: 'up', comment: long })],
  // 500 astral characters are 1000 UTF-16 units but still 500 characters.
  [`/feedback up ${'😀'.repeat(500)}`, cmd({ name: 'feedback', rating: 'up', comment: '😀'.repeat(500) })],
  [`/feedback up ${long}x`, bad('feedback', 'The feedback comment is 501 characters long; the limit is 500.')],
  ['/feedback', bad('feedback', '/feedback needs a rating: up or down.')],
  ['/feedback great answer', bad('feedback', 'The rating must be up or down, not "great".')],
  ['/feedback 👍', bad('feedback', 'The rating must be up or down, not "👍".')]
])

// ---- properties -------------------------------------------------------------

function assertInvariants (input: string, result: ParsedMessage): void {
  const trimmed = input.trim()
  switch (result.type) {
    case 'question':
      assert.equal(result.text, trimmed)
      assert.ok(result.text.length > 0, 'question text is never empty')
      assert.ok(!result.text.startsWith('/'))
      return
    case 'invalid':
      assert.ok(result.reason.length > 0)
      assert.ok(result.reason.length <= 300, 'reasons stay short however long the input')
      assert.ok(/[.?]$/.test(result.reason), 'reason is a sentence')
      if (result.usage !== undefined) assert.ok(USAGES.includes(result.usage))
      if (result.suggestion !== undefined) assert.ok(NAMES.includes(result.suggestion))
      if (result.command !== undefined || result.usage !== undefined) assert.ok(trimmed.startsWith('/'))
      return
    case 'command': {
      assert.ok(trimmed.startsWith('/'))
      const c = result.command
      switch (c.name) {
        case 'help':
          if (c.topic !== undefined) assert.ok(NAMES.includes(c.topic))
          return
        case 'search':
          assert.ok(Number.isInteger(c.k) && c.k >= SEARCH_K.min && c.k <= SEARCH_K.max, `k=${c.k}`)
          assert.ok(c.query.length > 0 && c.query === c.query.trim())
          return
        case 'history':
          assert.ok(Number.isInteger(c.count) && c.count >= HISTORY_COUNT.min && c.count <= HISTORY_COUNT.max)
          return
        case 'reset':
          assert.deepEqual(Object.keys(c), ['name'])
          return
        case 'feedback':
          assert.ok(c.rating === 'up' || c.rating === 'down')
          if (c.comment !== undefined) {
            assert.ok(c.comment.length > 0 && c.comment === c.comment.trim())
            assert.ok(Array.from(c.comment).length <= FEEDBACK_COMMENT_MAX)
          }
      }
    }
  }
}

const holds = (input: string): void => assertInvariants(input, parseMessage(input))

// Any UTF-16 code unit, so lone surrogates and NUL show up often.
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map(u => String.fromCharCode(u))
const space = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000', ' \t ')
const maybeSlash = (s: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(fc.constantFrom('', '/', ' /', '/ '), s).map(([prefix, rest]) => prefix + rest)

t.test('never throws and keeps invariants on arbitrary strings', async t => {
  const arbitraries: Array<[string, fc.Arbitrary<string>, number]> = [
    ['ascii', maybeSlash(fc.string()), 1000],
    ['binary (all code points)', maybeSlash(fc.string({ unit: 'binary', maxLength: 200 })), 1000],
    ['graphemes', maybeSlash(fc.string({ unit: 'grapheme', maxLength: 100 })), 500],
    ['lone surrogates and NUL', maybeSlash(fc.string({ unit: codeUnit, maxLength: 200 })), 1000],
    ['huge (up to 4000 chars)', maybeSlash(fc.string({ unit: fc.oneof(codeUnit, fc.constantFrom(' ', '"', "'", '-')), maxLength: 4000, size: 'max' })), 300]
  ]
  for (const [label, arb, numRuns] of arbitraries) {
    t.doesNotThrow(() => fc.assert(fc.property(arb, holds), { numRuns }), label)
  }
})

const commandWord = fc.oneof(
  fc.constantFrom(...NAMES),
  fc.mixedCase(fc.constantFrom(...NAMES)),
  fc.constantFrom('serch', 'hlep', 'histroy', 'rest', 'feedbak', 'x', '', '/', 'help/'),
  fc.string({ maxLength: 10 })
)
const argPiece = fc.oneof(
  fc.constantFrom('--k', '--K', '--k=', '--k=3', '--k=0', '--k=101', '3', '50', '51', '0', '-1', '1.5',
    'up', 'DOWN', 'sideways', 'search', '/help', '"', "'", '""', '" "', "don't", '"a b"', "'c d"),
  fc.integer({ min: -5, max: 200 }).map(String),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: codeUnit, maxLength: 12 }),
  fc.string({ minLength: 490, maxLength: 520 })
)
const rawCommand = fc.tuple(space, commandWord, fc.array(fc.tuple(space, argPiece), { maxLength: 8 }), fc.option(space))
  .map(([lead, word, args, trail]) => `${lead}/${word}${args.map(([s, a]) => s + a).join('')}${trail ?? ''}`)

t.test('random commands keep the invariants', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(rawCommand, holds), { numRuns: 3000 }))
})

t.test('surrounding whitespace never changes the result', async t => {
  const input = fc.oneof(rawCommand, fc.string({ unit: 'binary', maxLength: 50 }))
  t.doesNotThrow(() => fc.assert(fc.property(space, input, space, (before, s, after) => {
    assert.deepEqual(parseMessage(before + s + after), parseMessage(s))
  }), { numRuns: 500 }))
})

t.test('the command word is case-insensitive', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.mixedCase(fc.constantFrom(...NAMES)), fc.array(argPiece, { maxLength: 4 }), (word, args) => {
    const rest = args.map(a => ' ' + a).join('')
    assert.deepEqual(parseMessage(`/${word}${rest}`), parseMessage(`/${word.toLowerCase()}${rest}`))
  }), { numRuns: 500 }))
})

t.test('search: words, a quoted phrase and --k anywhere round-trip', async t => {
  const word = fc.stringMatching(/^[A-Za-z0-9?.]{1,10}$/)
  const phrase = fc.string({ unit: fc.oneof(fc.constantFrom(' ', '-', "'"), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 20 })
    .filter(p => !p.includes('"') && p.trim() !== '')
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.array(word, { minLength: 1, maxLength: 6 }), phrase, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 100 }), fc.boolean(),
    (words, p, phraseAt, flagAt, k, withEquals) => {
      const parts = [...words]
      parts.splice(phraseAt % (parts.length + 1), 0, `"${p}"`)
      const query = parts.map(w => w.replace(/^"(.*)"$/s, '$1')).join(' ').trim()
      const tokens = [...parts]
      tokens.splice(flagAt % (tokens.length + 1), 0, withEquals ? `--k=${k}` : `--k ${k}`)
      assert.deepEqual(parseMessage(`/search ${tokens.join(' ')}`), { type: 'command', command: { name: 'search', query, k } })
    }), { numRuns: 500 }))
})

t.test('history: any integer is accepted exactly when within bounds', async t => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.integer({ min: -100, max: 200 }), n => {
    const result = parseMessage(`/history ${n}`)
    if (n >= HISTORY_COUNT.min && n <= HISTORY_COUNT.max) {
      assert.deepEqual(result, { type: 'command', command: { name: 'history', count: n } })
    } else {
      assert.equal(result.type, 'invalid')
      assert.match(result.type === 'invalid' ? result.reason : '', /from 1 to 50/)
    }
  }), { numRuns: 300 }))
})

t.test('feedback: comments are kept trimmed up to the limit', async t => {
  const comment = fc.string({ unit: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter(c => c !== '"' && c !== "'"), maxLength: 520 })
  t.doesNotThrow(() => fc.assert(fc.property(fc.mixedCase(fc.constantFrom('up', 'down')), comment, (rating, text) => {
    const result = parseMessage(`/feedback ${rating} ${text}`)
    const trimmed = text.trim()
    const r = rating.toLowerCase() as 'up' | 'down'
    if (trimmed === '') {
      assert.deepEqual(result, { type: 'command', command: { name: 'feedback', rating: r } })
    } else if (Array.from(trimmed).length <= FEEDBACK_COMMENT_MAX) {
      assert.deepEqual(result, { type: 'command', command: { name: 'feedback', rating: r, comment: trimmed } })
    } else {
      assert.equal(result.type, 'invalid')
      assert.match(result.type === 'invalid' ? result.reason : '', /the limit is 500\./)
    }
  }), { numRuns: 500 }))
})
