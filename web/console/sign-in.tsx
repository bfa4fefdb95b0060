// Sign-in with an API key (admin or analyst). The key goes to POST /console/api/session in the
// body and is cleared from the field at once: it is never put in a URL or in the browser's storage.
import { useState } from 'preact/hooks'
import type { ConsoleSession } from '../../src/console/console-schemas.js'
import { pageName } from '../shared/page-name.js'
import { errorText } from '../shared/problem.js'
import { consoleApi } from './api.js'

export function SignIn ({ notice, signedIn }: {
  notice: string | undefined
  signedIn: (session: ConsoleSession) => void
}) {
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      const session = await consoleApi.signIn(key)
      setKey('')
      signedIn(session)
    } catch (caught) {
      setError(errorText(caught))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main class='sign-in'>
      <form class='card' onSubmit={event => { submit(event).catch(() => undefined) }}>
        <h1>{pageName()} console</h1>
        <p class='muted'>
          Find a conversation, see inside its turns, and watch how the bot is doing. Sign in with an
          admin or analyst API key.
        </p>
        {notice !== undefined && <p class='notice'>{notice}</p>}
        <label for='api-key'>API key</label>
        <input
          id='api-key' name='api-key' type='password' autocomplete='off' required value={key}
          onInput={event => setKey((event.target as HTMLInputElement).value)}
        />
        {error !== undefined && <p class='error' role='alert'>{error}</p>}
        <button type='submit' disabled={busy || key === ''}>Sign in</button>
      </form>
    </main>
  )
}
