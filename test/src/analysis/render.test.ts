import t from 'tap'
import { cellExcerpt, markdownCell, printable, renderUsage } from '../../../src/analysis/render.js'
import { emptyStats } from '../../../src/analysis/log-scan.js'
import type { UsageReport } from '../../../src/analysis/usage-report.js'

t.test('text from the logs is printed without its control characters', async t => {
  t.equal(printable('clear\u001b[2J\u001b]0;pwned\u0007 now'), 'clear\\u001b[2J\\u001b]0;pwned\\u0007 now', 'escape sequences are written out, not obeyed')
  t.equal(printable('line one\nline two\r'), 'line one\\u000aline two\\u000d')
  t.equal(printable('naïve café ✓'), 'naïve café ✓', 'printable text is left as it is')
})

t.test('a Markdown cell keeps the table whole and renders no HTML', async t => {
  t.equal(markdownCell('a | b\nc <script>'), 'a \\| b\\u000ac &lt;script>')
  t.equal(markdownCell('![x](https://attacker.example/t.png)'), '!\\[x\\](https://attacker.example/t.png)', 'an image is not fetched')
  t.equal(markdownCell('[click](javascript:alert(1))'), '\\[click\\](javascript:alert(1))', 'a link is text')
  t.equal(markdownCell('\\[click\\](javascript:alert(1))'), '\\\\\\[click\\\\\\](javascript:alert(1))', 'a backslash typed cannot undo the escape')
})

t.test('a long question is shown in a table as its beginning and its length, never cut inside a character', async t => {
  t.equal(cellExcerpt('how do I get a refund?'), 'how do I get a refund?', 'a question of ordinary length is whole')
  const flood = '👍🏽'.repeat(2100)
  const shown = cellExcerpt(flood)
  t.equal(shown, `${'👍🏽'.repeat(99)}… (2,100 characters)`, 'emoji with a skin tone are one character each, kept whole')
  const report = {
    period: { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') },
    stats: emptyStats(),
    turns: 1,
    turns_by_kind: { no_answer: 1 },
    answer_rate: 0,
    sessions_started: 1,
    sessions_active: 1,
    active_users: 1,
    turns_per_session: 1,
    feedback: { up: 0, down: 0 },
    commands: {},
    unanswered: [{ example: flood, count: 1, variants: 1 }],
    unanswered_without_text: 0
  } as unknown as UsageReport
  for (const format of ['text', 'md'] as const) {
    const text = renderUsage(report, format)
    t.ok(text.length < 2000, `${format}: the usage table stays readable (${text.length} characters)`)
    t.match(text, /… \(2,100 characters\)/)
  }
})
