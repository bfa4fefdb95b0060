import t from 'tap'
import { scrub } from '../../../../src/logging/scrubber.js'

t.test('a message made of cues costs a bounded number of tagger calls: its names are scrubbed, not read', async t => {
  const names = Array.from({ length: 200 }, (_, i) => `my name is Zorblax${String.fromCharCode(97 + i % 26)} Quentworth`).join(', ')
  const scrubbed = scrub(names)
  t.notMatch(scrubbed, /Zorblax|Quentworth/, 'every name past the budget is scrubbed too')
})
