import t from 'tap'
import { decideFromSearch, decideReply, withoutMarkup } from '../../../src/chat/reply-decision.js'
import { SearchEngine } from '../../../src/search/search-engine.js'

const engine = new SearchEngine()
engine.upsert({ id: 'import', title: 'Importing documents', passages: [{ ordinal: 0, text: 'Run the import script to load documents from a folder.' }] })

t.test('small talk is decided before any search', async t => {
  t.same(decideReply(engine, 'thanks!'), { kind: 'smalltalk', hits: [], smallTalk: 'thanks' })
})

t.test('markup is not searched for: "<script>" is not a question about scripts, nor its code one about alerts', async t => {
  t.equal(withoutMarkup('<script>alert(1)</script> and <b>bold</b> words'), '  and  bold  words')
  t.equal(withoutMarkup('<SCRIPT type="x">run()</Script >after'), ' after')
  t.equal(withoutMarkup('before <style>p { color: red }'), 'before  ', 'an element left open ends the text')
  t.equal(decideReply(engine, '<script>alert(1)</script>').kind, 'no_answer')
  t.equal(decideReply(engine, 'how do I run the import script?').kind, 'answer')
  // Each opener is read once: with backtracking, 100,000 of them would not end within the test's
  // timeout. The first opens an element left open, which ends the text.
  t.equal(withoutMarkup(`ask ${'<script'.repeat(100_000)}`), 'ask  ', 'crafted openers cost no backtracking')
})

t.test('the decision carries its evidence and confidence', async t => {
  const decided = decideFromSearch(engine, 'how do I load documents from a folder?')
  t.match(decided, { kind: 'answer', evidence: { coverage: 1 }, decision: { answer: true }, quote: 'Run the import script to load documents from a folder.' })
  t.ok(decided.decision.confidence > 0.5)
})
