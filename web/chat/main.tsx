// The chat page (/chat, and the widget's frame at /chat?embed=1): a conversation with the bot
// through POST /v1/chat, its replies streamed as they are written. Every word the user or the bot
// wrote is rendered as a text node, so a message that looks like HTML stays text. The session id
// lives in sessionStorage (this tab's conversation survives a reload, not the tab); the user id
// comes from ?user=, which the widget fills from its data-parley-user attribute.
import { render } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { pageName } from '../shared/page-name.js'
import { hasStatus } from '../shared/problem.js'
import { turnFailureText, withRetries } from '../shared/retry.js'
import { chatApi } from './api.js'
import { loadHistory, type Entry } from './history.js'
import { Message } from './message.js'
import { SourceDialog } from './source.js'
import '../shared/base.css'
import './chat.css'

const SESSION_KEY = 'parley.chat.session'
const params = new URLSearchParams(location.search)
const userId = params.get('user') ?? undefined
const embedded = params.get('embed') === '1'

// Storage can be refused (a frame on a site whose browser blocks third-party storage): the chat
// then still works, for as long as the page stays open.
const storage = {
  get: (): string | undefined => {
    try { return sessionStorage.getItem(SESSION_KEY) ?? undefined } catch { return undefined }
  },
  set: (id: string | undefined): void => {
    try { id === undefined ? sessionStorage.removeItem(SESSION_KEY) : sessionStorage.setItem(SESSION_KEY, id) } catch {}
  }
}

let nextId = 0
const entryId = (): number => ++nextId

function Chat () {
  const [entries, setEntries] = useState<Entry[]>([])
  const [draft, setDraft] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  /** Seconds until a refused turn is sent again, while the page waits to. */
  const [retryIn, setRetryIn] = useState<number>()
  const [source, setSource] = useState<string>()
  const sessionId = useRef(storage.get())
  const end = useRef<HTMLDivElement>(null)
  const input = useRef<HTMLTextAreaElement>(null)

  useEffect(() => {
    const id = sessionId.current
    if (id === undefined) return
    loadHistory(id, entryId).then(setEntries, () => {
      // Expired or deleted: the next message starts a new conversation.
      sessionId.current = undefined
      storage.set(undefined)
    })
  }, [])
  useEffect(() => { end.current?.scrollIntoView({ block: 'end' }) }, [entries, error])

  async function send (message: string, feedback = false): Promise<void> {
    setBusy(true)
    setError(undefined)
    if (!feedback) setEntries(list => [...list, { id: entryId(), role: 'user', text: message }])
    // The reply as it is written; the stored reply (with its sources) replaces it when it is done.
    const writing = entryId()
    const dropWriting = (list: Entry[]): Entry[] => list.filter(entry => entry.id !== writing)
    const onText = (text: string): void => setEntries(list => {
      const last = list.at(-1)
      return last?.id === writing && last.role === 'writing'
        ? [...list.slice(0, -1), { ...last, text: last.text + text }]
        : [...list, { id: writing, role: 'writing', text }]
    })
    try {
      const reply = await withRetries(async () => await chatApi.send(
        { message, session_id: sessionId.current, user_id: userId },
        feedback ? () => {} : onText
      ), { onWait: delayMs => { setRetryIn(delayMs === undefined ? undefined : Math.ceil(delayMs / 1000)) } })
      sessionId.current = reply.session_id
      storage.set(reply.session_id)
      const entry: Entry = feedback && reply.kind === 'command'
        ? { id: entryId(), role: 'notice', text: 'Thanks for your feedback', feedback: true }
        : { id: entryId(), role: 'bot', reply }
      setEntries(list => [...dropWriting(list), entry])
      if (!feedback) setDraft('')
    } catch (caught) {
      setEntries(dropWriting)
      if (hasStatus(caught, 404)) {
        // The session expired or was replaced: say so, and let the next message start afresh.
        sessionId.current = undefined
        storage.set(undefined)
      }
      setError(turnFailureText(caught, pageName()))
    } finally {
      setBusy(false)
      input.current?.focus()
    }
  }

  const submit = (event: Event): void => {
    event.preventDefault()
    const message = draft.trim()
    if (message !== '' && !busy) send(message)
  }
  const onKeyDown = (event: KeyboardEvent): void => {
    // Enter sends, Shift+Enter starts a new line, as in most chat boxes.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) submit(event)
  }

  // Thumbs go under the latest reply that answered (or could not answer) a question, until rated.
  const last = entries.at(-1)
  const answeredQuestion = last?.role === 'bot' && (last.reply.kind === 'answer' || last.reply.kind === 'no_answer')
  const rateable = answeredQuestion ? last.id : undefined

  return (
    <div class={embedded ? 'chat embedded' : 'chat'}>
      <header class='chat-header'>
        <h1>{pageName()}</h1>
        <p class='muted'>Ask a question; answers quote the knowledge base and name their sources.</p>
      </header>
      <main class='chat-log' aria-live='polite'>
        {entries.length === 0 && <p class='muted empty'>No messages yet. Type /help to see the commands.</p>}
        {entries.map(entry => (
          <Message
            key={entry.id}
            entry={entry}
            rate={entry.id === rateable && !busy ? rating => { send(`/feedback ${rating}`, true) } : undefined}
            openSource={setSource}
          />
        ))}
        {busy && entries.at(-1)?.role !== 'writing' && (retryIn === undefined
          ? <p class='muted typing'>{pageName()} is answering…</p>
          : <p class='muted typing' role='status'>{pageName()} is busy; trying again in {retryIn} s…</p>)}
        {error !== undefined && <p class='error' role='alert'>{error}</p>}
        <div ref={end} />
      </main>
      {source !== undefined && <SourceDialog docId={source} onClose={() => { setSource(undefined) }} />}
      <form class='composer' onSubmit={submit}>
        <label class='visually-hidden' for='message'>Message</label>
        <textarea
          id='message' ref={input} rows={2} maxLength={4000} placeholder='Type a message…' value={draft}
          onInput={event => setDraft((event.target as HTMLTextAreaElement).value)} onKeyDown={onKeyDown}
        />
        <button type='submit' disabled={busy || draft.trim() === ''}>Send</button>
      </form>
    </div>
  )
}

render(<Chat />, document.getElementById('app')!)
