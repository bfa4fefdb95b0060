// The conversation console (/console): sign in with an admin or analyst key, find conversations,
// look inside a turn (its span waterfall and log lines), and see the overview. The server keeps
// the sign-in in an HttpOnly cookie; the page never stores the key anywhere.
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { ConsoleSession } from '../../src/console/console-schemas.js'
import { pageName } from '../shared/page-name.js'
import { hasStatus, errorText } from '../shared/problem.js'
import { consoleApi, onSignInEnded } from './api.js'
import { ConversationView } from './conversation.js'
import { ConversationsView } from './conversations.js'
import { OverviewView } from './overview.js'
import { AccuracyView } from './accuracy.js'
import { TracePanel } from './trace.js'
import { hashFor } from './route.js'
import { SignIn } from './sign-in.js'
import { useRoute } from './use-route.js'
import '../shared/base.css'
import './console.css'

function Console () {
  const [session, setSession] = useState<ConsoleSession | null>()
  const [notice, setNotice] = useState<string>()
  const route = useRoute()

  useEffect(() => {
    consoleApi.session().then(setSession, (error: unknown) => {
      setSession(null)
      if (!hasStatus(error, 401)) setNotice(errorText(error))
    })
  }, [])

  // Any view's 401 comes here, and the sign-in form replaces the view.
  useEffect(() => onSignInEnded(() => {
    setSession(null)
    setNotice('Your sign-in has ended. Sign in again.')
  }), [])

  const signOut = async (): Promise<void> => {
    await consoleApi.signOut().catch(() => undefined)
    setSession(null)
    setNotice('Signed out.')
  }

  if (session === undefined) return <p class='loading muted'>Loading…</p>
  if (session === null) {
    return <SignIn notice={notice} signedIn={value => { setNotice(undefined); setSession(value) }} />
  }

  const tab = route.view === 'overview' || route.view === 'accuracy' ? route.view : 'conversations'
  return (
    <div class='shell'>
      <header class='topbar'>
        <span class='brand'>{pageName()} console</span>
        <nav aria-label='Views'>
          <a href={hashFor('conversations')} aria-current={tab === 'conversations' ? 'page' : undefined}>
            Conversations
          </a>
          <a href={hashFor('overview')} aria-current={tab === 'overview' ? 'page' : undefined}>Overview</a>
          <a href={hashFor('accuracy')} aria-current={tab === 'accuracy' ? 'page' : undefined}>Accuracy</a>
        </nav>
        <span class='who'>
          <span class={`role role-${session.role}`}>{session.role}</span>
          <span class='muted'>
            {session.chat_text === 'scrubbed'
              ? 'You see users\' words scrubbed, and pseudonyms'
              : 'You see users\' words as written and their ids'}
          </span>
          <button type='button' class='quiet' onClick={() => { signOut().catch(() => undefined) }}>Sign out</button>
        </span>
      </header>
      <main class='content'>
        {route.view === 'overview' && <OverviewView route={route} />}
        {route.view === 'accuracy' && <AccuracyView route={route} session={session} />}
        {route.view === 'conversations' && <ConversationsView route={route} />}
        {route.view === 'conversation' && <ConversationView route={route} session={session} />}
        {route.view === 'trace' && route.id !== undefined && (
          <section>
            <h2>A turn that failed before it was stored</h2>
            <TracePanel traceId={route.id} />
          </section>
        )}
      </main>
    </div>
  )
}

render(<Console />, document.getElementById('app')!)
