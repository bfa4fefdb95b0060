import t from 'tap'
import { markdownCell, printable } from '../../../src/analysis/render.js'

t.test('text from the logs is printed without its control characters', async t => {
  t.equal(printable('clear\u001b[2J\u001b]0;pwned\u0007 now'), 'clear\\u001b[2J\\u001b]0;pwned\\u0007 now', 'escape sequences are written out, not obeyed')
  t.equal(printable('line one\nline two\r'), 'line one\\u000aline two\\u000d')
  t.equal(printable('naïve café ✓'), 'naïve café ✓', 'printable text is left as it is')
})

t.test('a Markdown cell keeps the table whole and renders no HTML', async t => {
  t.equal(markdownCell('a | b\nc <script>'), 'a \\| b\\u000ac &lt;script>')
})
