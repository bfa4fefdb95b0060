import t from 'tap'
import { scrub } from '../../../../src/logging/scrubber.js'

// Through scrub(), as every caller meets these rules: the shaped values go first.
t.test('secrets written in words', async t => {
  const cases: Array<[string, string]> = [
    ['my password is hunter2 and it fails', 'my password is [SECRET] and it fails'],
    ['security answer is fluffy', 'security answer is [SECRET]'],
    ['mein Passwort ist Sonne123', 'mein Passwort ist [SECRET]'],
    ['my login is jsmith and password Qwerty!234', 'my login is jsmith and password [SECRET]'],
    ['my PIN is 0852', 'my PIN is [SECRET]'],
    ['the code you sent was 482913 and it expired', 'the code you sent was [SECRET] and it expired'],
    ['the answer to my security question is rexford', 'the answer to my security question is [SECRET]'],
    ["mon mot de passe c'est chaton_bleu77, pourquoi", "mon mot de passe c'est [SECRET], pourquoi"]
  ]
  for (const [input, expected] of cases) t.equal(scrub(input), expected, input)
})

t.test('what is said about a password is no password', async t => {
  for (const text of ['my password is not working', 'il link per reimpostare la password è scaduto', 'password reset link expired',
    'my password is wrong again', 'the code is invalid', 'error code was 503']) t.equal(scrub(text), text, text)
})
