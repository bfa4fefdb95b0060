import t from 'tap'
import { smallTalkOf } from '../../../src/chat/small-talk.js'

t.test('greetings, thanks and goodbyes, however they are typed', async t => {
  for (const text of ['hi', 'Hello!', 'hey there', 'Good morning', 'how are you?', "What's up", 'hi parley, how are you', 'how are you today']) t.equal(smallTalkOf(text), 'greeting', text)
  for (const text of ['thanks', 'Thank you so much!', 'ok thanks', 'cheers', 'thanks, that helped']) t.equal(smallTalkOf(text), 'thanks', text)
  for (const text of ['bye', 'Goodbye!', 'see you later', 'ok bye', 'have a nice day']) t.equal(smallTalkOf(text), 'goodbye', text)
})

t.test('a yes, an ok or a cool, which no entry answers', async t => {
  const said = ['yes', 'Yeah!', 'sure', 'no', 'nope', 'maybe', 'ok', 'okay', 'k', 'got it', 'never mind', 'lol', 'hahaha', 'cool', 'nice one', 'good job', "you're awesome"]
  for (const text of said) t.equal(smallTalkOf(text), 'acknowledgement', text)
})

t.test('questions about the bot itself, however they are typed', async t => {
  const asked = [
    "What's your name?", 'whats ur name', 'what is your name bot', 'hi, who are you?', 'what are you',
    'Are you a bot?', 'r u a robot', 'are you human', 'are you real?', 'Am I talking to a real person?',
    'is this a bot', 'how old are you', 'Who made you?', 'where are you from', 'What can you do?',
    'what can I ask you', 'do you have a name', 'what is this bot actually for?', "what's this for", 'whats this chat',
    'what do you do', 'how can you help me?', 'what are you for'
  ]
  for (const text of asked) t.equal(smallTalkOf(text), 'identity', text)
})

t.test('a question to the business, in the same words, is not small talk', async t => {
  const asked = [
    'are you open on Sundays?', 'where are you located', 'who are your suppliers', 'is this real',
    'is this a scam', 'what can you do about a late delivery', 'can I change my name', 'how old are your bikes',
    'are you a bank', 'am I talking to the right department', 'yes I want a refund', 'fine', 'no signal', 'is it ok to pay late',
    'cool bikes?', 'great deals', 'what is this charge for', 'what is this charge on my card', 'what do you do with my data',
    'how can you help me with a refund', 'what is this thing on my bill'
  ]
  for (const text of asked) t.equal(smallTalkOf(text), undefined, text)
})

t.test('a message with a question in it is not small talk', async t => {
  for (const text of ['hi, how do I import documents?', 'thanks, and how do I delete a session?', 'hello world program', 'bye bye sessions: how do they expire', 'Can you write me a poem about cats?', '']) {
    t.equal(smallTalkOf(text), undefined, JSON.stringify(text))
  }
})
