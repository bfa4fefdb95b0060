// Wrong keys counted per address, in windows of a minute, with a bound on the addresses followed.
import t from 'tap'
import { KeyGuesses } from '../../../src/auth/key-guesses.js'

t.test('the windows: per address, over after the minute, bounded in number', async t => {
  let now = 0
  const guesses = new KeyGuesses({ max: 2, now: () => now, maxSources: 2 })
  guesses.wrong('a')
  t.equal(guesses.retryAfter('a'), 0)
  guesses.wrong('a')
  t.equal(guesses.retryAfter('a'), 60)
  now = 30_000
  t.equal(guesses.retryAfter('a'), 30)
  guesses.wrong('b')
  guesses.wrong('c')
  guesses.wrong('d')
  t.equal(guesses.retryAfter('d'), 60, 'past the addresses followed, new ones share one window')
  t.equal(guesses.retryAfter('e'), 60)
  now = 60_000
  t.equal(guesses.retryAfter('a'), 0, 'a minute after its window began')
  t.equal(new KeyGuesses({ max: 0, now: () => now }).retryAfter('a'), 0, '0: no limit')
})
