// Finding conversations: words, time range, user, reply kind, thumbs down, errors and slowness,
// newest turn first; a row opens its conversation. The filters are the hash's query, so
// #/conversations?kind=no_answer&range=day is a link to exactly this list.
import { useEffect, useState } from 'preact/hooks'
import type { ConversationsPageType, TurnRow } from '../../src/console/console-schemas.js'
import { errorText } from '../shared/problem.js'
import { useLatest } from '../shared/use-load.js'
import { consoleApi } from './api.js'
import { draftOf, filtersOf, KINDS, leftOut, toQuery, type Filters } from './conversation-filters.js'
import { dateTime, ms, userLabel } from './format.js'
import { LeftOutNotice } from './left-out-notice.js'
import { hashFor, rememberListHash, type Route } from './route.js'
import { navigate } from './use-route.js'

// An empty list says which filter emptied it when the user filter did: a user no one has seen is
// most often an id typed otherwise than the customer's client sent it.
function emptyText (filters: Filters, user: ConversationsPageType['user']): string {
  if (filters.user === undefined || user === undefined) return 'No turn matches these filters.'
  if (!user.found) {
    return `No conversation has the user "${filters.user}". Type the id exactly as the customer's app sent ` +
      'it as user_id (case counts), or their pseudonym (u_…) from a log line.'
  }
  const who = user.pseudonym ?? filters.user
  return `The user ${who} has conversations, but no turn of theirs matches the other filters.`
}

export function ConversationsView ({ route }: { route: Route }) {
  const filters = filtersOf(route.params)
  const key = route.params.toString()
  // The rows remember the filters they were fetched for, so rows of other filters are never shown
  // as these; "Older" adds pages to them. The list is useLatest's, not useLoad's, for that paging.
  const [list, setList] = useState<{
    key: string
    rows: TurnRow[]
    user?: ConversationsPageType['user']
    nextBefore: string | null
  }>()
  const [error, setError] = useState<string>()
  const [busy, setBusy] = useState(false)
  const latest = useLatest()
  // The text fields are applied on submit, not at each key: drafts until then.
  const [draft, setDraft] = useState(draftOf(filters))

  const load = async (before?: string): Promise<void> => {
    setBusy(true)
    setError(undefined)
    await latest.run(consoleApi.conversations(toQuery(filters, before)), page => {
      setList(previous => ({
        key,
        rows: before === undefined || previous?.key !== key ? page.turns : [...previous.rows, ...page.turns],
        user: page.user,
        nextBefore: page.next_before
      }))
      setBusy(false)
    }, caught => {
      setError(errorText(caught))
      setBusy(false)
    })
  }
  const rows = list?.key === key ? list.rows : undefined
  const nextBefore = list?.key === key ? list.nextBefore : null

  useEffect(() => {
    rememberListHash(location.hash)
    setDraft(draftOf(filters))
    load().catch(() => undefined)
  }, [key])

  // Any change applies what is typed too: ticking "Feedback down" after typing a user keeps the user.
  const apply = (changes: Filters): void => {
    const typed = { q: draft.q.trim(), user: draft.user.trim(), min_latency_ms: draft.min_latency_ms.trim() }
    navigate(hashFor('conversations', { ...filters, ...typed, ...changes }))
  }
  const submit = (event: Event): void => {
    event.preventDefault()
    apply({})
  }
  // A turn that failed before its session was stored has only its trace to show.
  const open = (row: TurnRow): string => row.session_id === null
    ? hashFor(`traces/${encodeURIComponent(row.trace_id ?? '')}`)
    : hashFor(`conversations/${encodeURIComponent(row.session_id)}`, { trace: row.trace_id ?? undefined })

  return (
    <section>
      <form class='filters' onSubmit={submit}>
        <div class='search'>
          <label for='q'>Search conversations</label>
          <input
            id='q' type='search' placeholder='Words in a message or a reply' value={draft.q}
            onInput={event => setDraft({ ...draft, q: (event.target as HTMLInputElement).value })}
          />
          <button type='submit'>Search</button>
        </div>
        <div class='filter-row'>
          <label>Time
            <select
              value={filters.range ?? 'all'}
              onChange={event => apply({ range: (event.target as HTMLSelectElement).value })}
            >
              <option value='hour'>Last hour</option>
              <option value='day'>Last day</option>
              <option value='week'>Last week</option>
              <option value='all'>All time</option>
            </select>
          </label>
          <label>User
            <input
              type='text' size={14} placeholder='user id or u_…' value={draft.user}
              onInput={event => setDraft({ ...draft, user: (event.target as HTMLInputElement).value })}
            />
          </label>
          <label>Reply kind
            <select
              value={filters.kind ?? ''}
              onChange={event => apply({ kind: (event.target as HTMLSelectElement).value })}
            >
              <option value=''>Any</option>
              {KINDS.map(kind => <option key={kind} value={kind}>{kind}</option>)}
            </select>
          </label>
          <label class='check'>
            <input
              type='checkbox' checked={filters.feedback === 'down'}
              onChange={event => apply({ feedback: (event.target as HTMLInputElement).checked ? 'down' : undefined })}
            />
            Feedback down
          </label>
          <label class='check'>
            <input
              type='checkbox' checked={filters.errors === 'true'}
              onChange={event => apply({ errors: (event.target as HTMLInputElement).checked ? 'true' : undefined })}
            />
            Errors
          </label>
          <label>Slower than (ms)
            <input
              type='number' min={0} step={50} size={7} value={draft.min_latency_ms}
              onInput={event => setDraft({ ...draft, min_latency_ms: (event.target as HTMLInputElement).value })}
            />
          </label>
        </div>
      </form>

      {filters.source !== undefined && (
        <p class='muted'>
          Turns nearest to the document <code>{filters.source}</code> (as an UnansweredTopic alert links
          here). <a href={hashFor('conversations', { ...filters, source: undefined })}>Any document</a>
        </p>
      )}
      <LeftOutNotice view='list' filters={leftOut(filters)} />
      {error !== undefined && <p class='error' role='alert'>{error}</p>}
      {rows !== undefined && rows.length === 0 && <p class='muted empty'>{emptyText(filters, list?.user)}</p>}
      {rows !== undefined && rows.length > 0 && (
        <table class='turns' data-filters={key}>
          <thead>
            <tr>
              <th>Time</th>
              <th>User</th>
              <th>Message</th>
              <th>Reply</th>
              <th>Kind</th>
              <th class='number'>Latency</th>
              <th>Feedback</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(row => (
              <tr
                key={`${row.session_id}/${row.turn ?? row.trace_id ?? row.at}`}
                class={row.error ? 'failed' : undefined}
                onClick={() => navigate(open(row))}
              >
                <td class='nowrap'>{dateTime(row.at)}</td>
                <td class='user'>{userLabel(row.user)}</td>
                <td class='message-cell'><a href={open(row)}>{row.message}</a></td>
                <td class='reply-cell'><span>{row.reply ?? 'failed before a reply'}</span></td>
                <td>{row.kind === null ? '—' : <span class={`kind kind-${row.kind}`}>{row.kind}</span>}</td>
                <td class='number nowrap'>{ms(row.latency_ms)}</td>
                <td>
                  {row.feedback === null ? '' : <span class={`feedback feedback-${row.feedback}`}>{row.feedback}</span>}
                </td>
                <td>{row.error ? <span class='badge-error'>error</span> : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(busy || rows === undefined) && error === undefined && <p class='muted'>Loading…</p>}
      {rows !== undefined && nextBefore !== null && !busy && (
        <button type='button' class='quiet older' onClick={() => { load(nextBefore).catch(() => undefined) }}>
          Older
        </button>
      )}
    </section>
  )
}
