// One conversation: every turn (message, reply, sources, kind, latency, feedback) and the turns
// that failed before they were stored; the selected turn (?trace=) shows its span waterfall and
// log lines underneath it.
import { useEffect, useState } from 'preact/hooks'
import type { ConsoleSession, ConsoleUser, ConversationTurn } from '../../src/console/console-schemas.js'
import type { RefusalRule } from '../../src/search/answer-decision.js'
import { errorText } from '../shared/problem.js'
import { useLoad } from '../shared/use-load.js'
import { consoleApi } from './api.js'
import { dateTime, ms, usd, userLabel } from './format.js'
import { hashFor, listHash, type Route } from './route.js'
import { TracePanel } from './trace.js'

export function ConversationView ({ route, session }: { route: Route, session: ConsoleSession }) {
  const sessionId = route.id!
  const { data: conversation, error } = useLoad(async () => await consoleApi.conversation(sessionId), [sessionId])

  const selected = route.params.get('trace') ?? undefined
  const select = (traceId: string | null): string =>
    hashFor(`conversations/${encodeURIComponent(sessionId)}`, { trace: traceId ?? undefined })

  // The turn opened from the list is the one the team came for: brought into view, not left below
  // the fold.
  useEffect(() => {
    if (conversation === undefined || selected === undefined) return
    const turn = conversation.turns.find(candidate => candidate.trace_id === selected)
    const anchor = turn === undefined ? `failed-${selected}` : `turn-${turn.turn}`
    document.getElementById(anchor)?.scrollIntoView({ block: 'start' })
  }, [conversation, selected])

  return (
    <section class='conversation'>
      <p><a href={listHash()}>← Back to conversations</a></p>
      {error !== undefined && <p class='error' role='alert'>{error}</p>}
      {conversation === undefined && error === undefined && <p class='muted'>Loading…</p>}
      {conversation !== undefined && (
        <>
          <header class='conversation-header'>
            <h1>Conversation</h1>
            <dl class='facts'>
              <div><dt>Session</dt><dd class='mono'>{conversation.session_id}</dd></div>
              <div>
                <dt>User</dt>
                <dd>
                  {userLabel(conversation.user)}
                  {showsPseudonym(conversation.user, session)
                    ? <span class='muted'> ({conversation.user.pseudonym})</span>
                    : null}
                </dd>
              </div>
              <div><dt>Status</dt><dd>{conversation.status}</dd></div>
              <div><dt>Started</dt><dd>{dateTime(conversation.created_at)}</dd></div>
              <div><dt>Last activity</dt><dd>{dateTime(conversation.last_activity_at)}</dd></div>
            </dl>
          </header>
          {conversation.turns.map(turn => (
            <Turn
              key={turn.turn}
              turn={turn}
              open={turn.trace_id !== null && turn.trace_id === selected}
              href={select(turn.trace_id === selected ? null : turn.trace_id)}
              admin={session.role === 'admin'}
            />
          ))}
          {conversation.failed_turns.length > 0 && <h2>Failed turns</h2>}
          {conversation.failed_turns.map(failed => (
            <article class='turn failed' key={failed.trace_id} id={`failed-${failed.trace_id}`}>
              <header class='turn-header'>
                <span>{dateTime(failed.at)}</span>
                <span class='badge-error'>{failed.status_code}</span>
                <span class='grow'>{failed.error ?? 'The turn failed before it was stored'}</span>
                <a href={select(failed.trace_id === selected ? null : failed.trace_id)}>
                  {failed.trace_id === selected ? 'Hide trace' : 'Show trace'}
                </a>
              </header>
              {failed.trace_id === selected && <TracePanel traceId={failed.trace_id} />}
            </article>
          ))}
        </>
      )}
    </section>
  )
}

// Whether the pseudonym goes beside the id: for who sees users' ids (full chat text), when the user
// has both.
const showsPseudonym = (user: ConsoleUser, session: ConsoleSession): boolean =>
  session.chat_text === 'full' && user.pseudonym !== null && user.id !== undefined && user.id !== null

function Turn ({ turn, open, href, admin }: {
  turn: ConversationTurn
  open: boolean
  href: string
  admin: boolean
}) {
  const sourceNames = turn.sources.map(source => `${source.title} (${source.doc_id})`).join(', ')
  return (
    <article class={open ? 'turn open' : 'turn'} id={`turn-${turn.turn}`}>
      <header class='turn-header'>
        <span class='turn-number'>Turn {turn.turn}</span>
        <span class='muted'>{dateTime(turn.at)}</span>
        {turn.kind !== null && <span class={`kind kind-${turn.kind}`}>{turn.kind}</span>}
        <span class='muted latency' title={'From the request\'s arrival to the last byte of the reply'}>
          {ms(turn.latency_ms)}
        </span>
        {turn.generation !== null && <Generation generation={turn.generation} />}
        {turn.feedback !== null && (
          <span class={`feedback feedback-${turn.feedback.rating}`}>
            feedback {turn.feedback.rating}{turn.feedback.comment !== null ? `: ${turn.feedback.comment}` : ''}
          </span>
        )}
        <span class='grow' />
        {turn.trace_id !== null && <a href={href}>{open ? 'Hide trace' : 'Show trace'}</a>}
      </header>
      <div class='exchange'>
        <p class='said user-said'><span class='who-said'>User</span>{turn.message}</p>
        <p class='said bot-said'><span class='who-said'>Bot</span>{turn.reply}</p>
        {turn.decision !== null
          ? <Decision decision={turn.decision} turn={turn} />
          : turn.sources.length > 0 && <p class='turn-sources muted'>Sources: {sourceNames}</p>}
        {admin && turn.kind === 'no_answer' && <AddToTestSet turn={turn} />}
      </div>
      {open && (turn.has_trace
        ? <TracePanel traceId={turn.trace_id!} />
        : <p class='muted trace-missing'>No trace kept for this turn</p>)}
    </article>
  )
}

/**
 * An unanswered question kept as a test question, with the document that should answer it (one of
 * the nearest the turn found, or another by its id) or none: the next accuracy run tells whether it
 * is answered now. Nothing is chosen at first, so that Save never records a guess. With a document,
 * the question is also added to its phrasings unless the admin says not: users' words that the FAQ
 * never uses are what a lexical search cannot bridge on its own.
 */
function AddToTestSet ({ turn }: { turn: ConversationTurn }) {
  const [open, setOpen] = useState(false)
  const [choice, setChoice] = useState('')
  const [otherId, setOtherId] = useState('')
  const [teach, setTeach] = useState(true)
  const [state, setState] = useState<'editing' | 'saving' | 'saved'>('editing')
  const [error, setError] = useState<string>()
  const nearest = turn.sources.map(source => source.doc_id).filter((id, i, ids) => ids.indexOf(id) === i)
  const expected = choice === OTHER_DOCUMENT ? otherId.trim() : choice
  const aDocument = expected !== '' && expected !== 'none'
  const teaching = teach && aDocument

  const save = async (): Promise<void> => {
    setState('saving')
    setError(undefined)
    try {
      // The phrasing first: adding it again is a no-op, so a retry after a failure adds nothing twice.
      if (teaching) await consoleApi.addPhrasing(expected, turn.message)
      await consoleApi.addTestQuestion({ question: turn.message, expected: expected === 'none' ? null : expected })
      setState('saved')
    } catch (caught) {
      setState('editing')
      setError(errorText(caught))
    }
  }

  if (state === 'saved') {
    const taught = teaching ? ` and to ${expected}'s phrasings` : ''
    return (
      <p class='add-test muted' role='status'>
        Added to the test set (expected: {expected}){taught}. <a href={hashFor('accuracy')}>Accuracy</a>
      </p>
    )
  }
  if (!open) {
    return (
      <p class='add-test'>
        <button type='button' class='quiet' onClick={() => { setOpen(true) }}>Add to test set</button>
      </p>
    )
  }
  return (
    <form class='add-test' onSubmit={event => { event.preventDefault(); save().catch(() => undefined) }}>
      <label>Should be answered from{' '}
        <select value={choice} onChange={event => { setChoice((event.target as HTMLSelectElement).value) }}>
          <option value='' disabled>choose…</option>
          {nearest.map(id => <option key={id} value={id}>{id}</option>)}
          <option value={OTHER_DOCUMENT}>another document, by its id…</option>
          <option value='none'>none (out of scope: refuse it)</option>
        </select>
      </label>
      {choice === OTHER_DOCUMENT && (
        <input
          aria-label='Document id' value={otherId} placeholder='document id'
          onInput={event => { setOtherId((event.target as HTMLInputElement).value) }}
        />
      )}
      {aDocument && (
        <label>
          <input
            type='checkbox' checked={teach}
            onChange={event => { setTeach((event.target as HTMLInputElement).checked) }}
          />
          {' '}and add these words to its phrasings
        </label>
      )}
      <button type='submit' disabled={state === 'saving' || expected === ''}>Save</button>
      <button type='button' class='quiet' onClick={() => { setOpen(false) }}>Cancel</button>
      {error !== undefined && <span class='error' role='alert'>{error}</span>}
    </form>
  )
}

// The choice that asks for a document by its id (none of the nearest is the one): no id starts with '-'.
const OTHER_DOCUMENT = '-other'

// The measures the answer decision reads, in the words the console shows them in.
const MEASURES: Record<string, string> = {
  coverage: 'coverage',
  unseen: 'unseen words',
  mutual: 'mutual',
  relative_score: 'relative score',
  question_recall: 'question recall',
  lead: 'lead',
  similarity: 'similarity',
  corrected: 'words read as the knowledge base spells them'
}

// The rules that refuse a question before the model weighs it (src/search/answer-decision.ts).
const REFUSAL_RULES: Record<RefusalRule, string> = {
  no_shared_word: 'no word of the question is in the passage found',
  everyday_words: 'a question of everyday words alone, none of them in the entry\'s question or its phrasings'
}

/**
 * Why the question was answered or refused: its confidence against the threshold (or the rule that
 * refused it first), the measures read, the documents found and their scores.
 */
function Decision ({ decision, turn }: {
  decision: NonNullable<ConversationTurn['decision']>
  turn: ConversationTurn
}) {
  const { confidence, threshold, refused_by: refusedBy, ...measures } = decision
  const { kind, sources, context_turn: contextTurn } = turn
  const answered = kind === 'answer'
  return (
    <div class='decision' aria-label='Answer decision'>
      {refusedBy === undefined
        ? (
          <p class={answered ? 'decision-verdict' : 'decision-verdict refused'}>
            {answered ? 'Answered' : 'Refused'}: confidence <strong>{confidence.toFixed(3)}</strong>{' '}
            {confidence >= threshold ? '≥' : '<'} threshold {threshold.toFixed(3)}
          </p>
          )
        : <p class='decision-verdict refused'>Refused before the model was read: {REFUSAL_RULES[refusedBy]}.</p>}
      {contextTurn !== null && (
        <p class='decision-context'>
          A follow-up: searched together with the question of turn {contextTurn}, which its own words lean on.
        </p>
      )}
      <p class='decision-measures muted'>
        {Object.entries(measures).map(([name, value]) => `${MEASURES[name] ?? name} ${value}`).join(' · ')}
      </p>
      {sources.length > 0 && (
        <ol class='decision-sources'>
          {sources.map(source => (
            <li key={source.doc_id + source.snippet}>
              <span class='mono'>{source.doc_id}</span> {source.title} <span class='muted'>score {source.score}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}

/**
 * How the reply was written: by the model, with its tokens and cost, or the passage after the model
 * failed, and why.
 */
function Generation ({ generation }: { generation: NonNullable<ConversationTurn['generation']> }) {
  const tokens = generation.input_tokens === undefined
    ? ''
    : ` · ${generation.input_tokens} in / ${generation.output_tokens ?? 0} out tokens`
  const cost = generation.cost_usd === undefined ? '' : ` · ${usd(generation.cost_usd)}`
  return generation.by === 'model'
    ? <span class='generation muted'>written by {generation.model}{tokens}{cost}</span>
    : (
      <span class='generation fallback'>
        passage: {generation.model} fell back ({generation.fallback_reason}){tokens}{cost}
      </span>
      )
}
