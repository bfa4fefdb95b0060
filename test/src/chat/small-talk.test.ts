import t from 'tap'
import { smallTalkOf } from '../../../src/chat/small-talk.js'

t.test('greetings, thanks and goodbyes, however they are typed', async t => {
  for (const text of ['hi', 'Hello!', 'hey there', 'Good morning', 'how are you?', "What's up", 'hi parley, how are you', 'how are you today']) t.equal(smallTalkOf(text), 'greeting', text)
  for (const text of ['thanks', 'Thank you so much!', 'ok thanks', 'cheers', 'thanks, that helped']) t.equal(smallTalkOf(text), 'thanks', text)
  for (const text of ['bye', 'Goodbye!', 'see you later', 'ok bye', 'have a nice day']) t.equal(smallTalkOf(text), 'goodbye', text)
})

t.test('a message with a question in it is not small talk', async t => {
  for (const text of ['hi, how do I import documents?', 'thanks, and how do I delete a session?', 'hello world program', 'bye bye sessions: how do they expire', 'Can you write me a poem about cats?', '']) {
    t.equal(smallTalkOf(text), undefined, JSON.stringify(text))
  }
})
