import t from 'tap'
import { scrub } from '../../../../src/logging/scrubber.js'

// Through scrub(), as every caller meets these rules: the shaped values go first.
t.test('names after a cue that says one follows, in several languages', async t => {
  const cases: Array<[string, string]> = [
    ['hi, my name is Margaret Okafor and I cannot log in', 'hi, my name is [NAME] and I cannot log in'],
    ["my name's ahmed hassan, reset my password pls", "my name's [NAME], reset my password pls"],
    ['you can call me Tomasz', 'you can call me [NAME]'],
    ['Name: Olga Petrova', 'Name: [NAME]'],
    ['Hallo, mein Name ist Lukas Schneider und ich habe eine Frage', 'Hallo, mein Name ist [NAME] und ich habe eine Frage'],
    ["Bonjour, je m'appelle Camille Durand", "Bonjour, je m'appelle [NAME]"],
    ['Hola, me llamo Javier Morales y no puedo pagar', 'Hola, me llamo [NAME] y no puedo pagar'],
    ['Hoi, mijn naam is Daan de Vries, ik kan niet inloggen', 'Hoi, mijn naam is [NAME], ik kan niet inloggen'],
    ["Hello, I'm Jonas Weber, my order never arrived", "Hello, I'm [NAME], my order never arrived"],
    ['this is Priya Raman from accounting', 'this is [NAME] from accounting']
  ]
  for (const [input, expected] of cases) t.equal(scrub(input), expected, input)
})

t.test('names signed at the end of a message', async t => {
  const cases: Array<[string, string]> = [
    ['The app crashes.\nThanks,\nDavid Miller', 'The app crashes.\nThanks,\n[NAME]'],
    ['can you refund the second charge? thanks - Emma', 'can you refund the second charge? thanks - [NAME]'],
    ['Merci de votre aide. Cordialement, Julien Moreau', 'Merci de votre aide. Cordialement, [NAME]'],
    ['Vielen Dank! Mit freundlichen Grüßen, Anna Becker', 'Vielen Dank! Mit freundlichen Grüßen, [NAME]'],
    ['Password reset link expired again.\n-- Kenji Watanabe', 'Password reset link expired again.\n-- [NAME]']
  ]
  for (const [input, expected] of cases) t.equal(scrub(input), expected, input)
})

t.test('ordinary support text that looks like a cue is left alone', async t => {
  const keep = [
    "I'm stuck on the login page",
    "I'm Unable to login",
    'This is Ridiculous',
    'this is Google Docs acting up',
    'my password is not working',
    'password reset link expired',
    'do I have to change my password every few months?',
    'my name is spelled wrong in teams',
    'how do i check my chase account balance',
    'thanks a lot!',
    'thanks in advance',
    'cheers!',
    'Hi Support, my iPhone 15 broke',
    'is the Oxford Street store open',
    'my order from 12/03/2024 and 2024-03-12 is late',
    'software licence key renewal',
    'event registration is closed',
    'the pin screen freezes',
    '4096 MB of RAM on an RTX 4090',
    'call me back tomorrow'
  ]
  for (const text of keep) t.equal(scrub(text), text, text)
})
