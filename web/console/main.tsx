// The conversation console (/console): sign in with an admin or analyst key, find conversations,
// look inside a turn (its span waterfall and log lines), and see the overview. The server keeps
// the sign-in in an HttpOnly cookie; the page never stores the key anywhere.
import { render } from 'preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import type { ConsoleSession } from '../../src/console/console-schemas.js'
import { ApiError, errorText } from '../shared/api.js'
import { pageName } from '../shared/page-name.js'
import { consoleApi } from './api.js'
import { ConversationView } from './conversation.js'
import { ConversationsView } from './conversations.js'
import { OverviewView } from './overview.js'
import { AccuracyView } from './accuracy.js'
import { TracePanel } from './trace.js'
import { hashFor, useRoute } from './route.js'
import { SignIn } from './sign-in.js'
import '../shared/base.css'
import './console.css'

/** Called by a view when the API answers 401: the sign-in ended (expired, or signed out elsewhere). */
export type OnUnauthorized = (error: unknown) => boolean

function Console () {
  const [session, setSession] = useState<ConsoleSession | null>()
  const [notice, setNotice] = useState<string>()
  const route = useRoute()

  useEffect(() => {
    consoleApi.session().then(setSession, (error: unknown) => {
      setSession(null)
      if (!(error instanceof ApiError && error.status === 401)) setNotice(errorText(error))
    })
  }, [])

  const unauthorized = useCallback<OnUnauthorized>((error) => {
    if (!(error instanceof ApiError && error.status === 401)) return false
    setSession(null)
    setNotice('Your sign-in has ended. Sign in again.')
    return true
  }, [])

  const signOut = async (): Promise<void> => {
    await consoleApi.signOut().catch(() => undefined)
    setSession(null)
    setNotice('Signed out.')
  }

  if (session === undefined) return <p class='loading muted'>Loading…</p>
  if (session === null) return <SignIn notice={notice} signedIn={value => { setNotice(undefined); setSession(value) }} />

  const tab = route.view === 'overview' || route.view === 'accuracy' ? route.view : 'conversations'
  return (
    <div class='shell'>
      <header class='topbar'>
        <span class='brand'>{pageName()} console</span>
        <nav aria-label='Views'>
          <a href={hashFor('conversations')} aria-current={tab === 'conversations' ? 'page' : undefined}>Conversations</a>
          <a href={hashFor('overview')} aria-current={tab === 'overview' ? 'page' : undefined}>Overview</a>
          <a href={hashFor('accuracy')} aria-current={tab === 'accuracy' ? 'page' : undefined}>Accuracy</a>
        </nav>
        <span class='who'>
          <span class={`role role-${session.role}`}>{session.role}</span>
          <span class='muted'>{session.chat_text === 'scrubbed' ? 'You see scrubbed text and pseudonyms' : 'You see users\' words as written and their ids'}</span>
          <button type='button' class='quiet' onClick={() => { signOut().catch(() => undefined) }}>Sign out</button>
        </span>
      </header>
      <main class='content'>
        {route.view === 'overview' && <OverviewView route={route} unauthorized={unauthorized} />}
        {route.view === 'accuracy' && <AccuracyView route={route} session={session} unauthorized={unauthorized} />}
        {route.view === 'conversations' && <ConversationsView route={route} unauthorized={unauthorized} />}
        {route.view === 'conversation' && <ConversationView route={route} session={session} unauthorized={unauthorized} />}
        {route.view === 'trace' && route.id !== undefined && <section><h2>A turn that failed before it was stored</h2><TracePanel traceId={route.id} unauthorized={unauthorized} /></section>}
      </main>
    </div>
  )
}

render(<Console />, document.getElementById('app')!)
