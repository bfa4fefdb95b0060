// One entry of the conversation: the user's message, the bot's reply with its sources, or a
// notice. Text only: titles and snippets come from documents anyone with a key may write.
import type { SourceLine } from '../../src/chat/chat-schemas.js'
import type { Source } from '../../src/transcript/transcript-schemas.js'
import type { Entry } from './history.js'

const KIND_LABEL: Record<string, string> = {
  answer: 'Answer',
  no_answer: 'Not in the knowledge base',
  smalltalk: '',
  command: 'Command',
  command_error: 'Command not understood'
}

// A thumb up: the cuff, then the hand.
const THUMB_PATH = 'M2 21h4V9H2v12z' +
  'm20-11a2 2 0 0 0-2-2h-6.3l.95-4.57.03-.32a1.5 1.5 0 0 0-.44-1.06L13.17 1 6.6 7.59A1.98 1.98 0 0 0 6 9v10' +
  'a2 2 0 0 0 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z'

// Drawn, not an emoji: machines without an emoji font showed an empty box.
function Thumb ({ down = false }: { down?: boolean }) {
  return (
    <svg viewBox='0 0 24 24' width='16' height='16' aria-hidden='true' transform={down ? 'rotate(180)' : undefined}>
      <path fill='currentColor' d={THUMB_PATH} />
    </svg>
  )
}

const squeezed = (text: string): string => text.replace(/\s+/g, ' ').trim()

// A reply that is the passage itself (no language model) quotes its source's snippet: the passage
// is shown once, in the reply, not again under "Sources". A snippet cut short has ellipses; each
// piece between them must be in the reply.
function quotedIn (reply: string, snippet: string): boolean {
  const said = squeezed(reply)
  return snippet.split('\u2026').map(squeezed).filter(piece => piece !== '').every(piece => said.includes(piece))
}

// The reply's last line names its source (SOURCE_LINE in src/chat/chat-schemas.ts); the page lists
// that source under the reply, so it is not named twice.
const SOURCE_LINE: SourceLine = '\n\nSource: '
function withoutSourceLine (reply: string, listed: readonly Source[]): string {
  const at = reply.lastIndexOf(SOURCE_LINE)
  if (at < 0) return reply
  const named = reply.slice(at + SOURCE_LINE.length)
  const listedSource = listed.some(source => source.title === named || source.doc_id === named)
  return listedSource && !named.includes('\n') ? reply.slice(0, at) : reply
}

export function Message ({ entry, rate, openSource }: {
  entry: Entry
  rate: ((rating: 'up' | 'down') => void) | undefined
  openSource: (docId: string) => void
}) {
  if (entry.role === 'user') return <div class='message user'><p class='bubble'>{entry.text}</p></div>
  if (entry.role === 'notice') return <div class='message notice'><p>{entry.text}</p></div>
  if (entry.role === 'writing') {
    return (
      <div class='message writing' aria-busy='true'>
        <div class='bubble'><p class='text'>{entry.text}</p></div>
      </div>
    )
  }
  const { reply } = entry
  const label = KIND_LABEL[reply.kind] ?? ''
  // A reply that found no answer names the nearest topics in its text; their passages under "not in
  // the knowledge base" read as an answer, and their titles again as a second list. An answer's
  // sources are the documents it quotes or cites; the others found are only related.
  const found = reply.kind === 'no_answer' ? [] : reply.sources
  const numbered = found.map((source, i) => ({ source, number: i + 1 }))
  const sources = numbered.filter(({ source }) => source.cited !== false)
  const related = numbered.filter(({ source }) => source.cited === false)
  const link = (source: Source) => (
    <a
      class='source-title'
      href={`#source=${encodeURIComponent(source.doc_id)}`}
      onClick={event => { event.preventDefault(); openSource(source.doc_id) }}
    >
      {source.title}
    </a>
  )
  return (
    <div class={`message bot kind-${reply.kind}`}>
      <div class='bubble'>
        {label !== '' && <p class='kind'>{label}</p>}
        <p class='text'>{withoutSourceLine(reply.reply, sources.map(({ source }) => source))}</p>
        {sources.length > 0 && (
          <div class='sources'>
            <h2>{sources.length === 1 ? 'Source' : 'Sources'}</h2>
            <ol>
              {/* Numbered as the reply cites them ([1], [3]), whichever are left out. */}
              {sources.map(({ source, number }) => (
                <li key={source.doc_id} value={number}>
                  {link(source)}
                  {source.snippet !== '' && !quotedIn(reply.reply, source.snippet) && (
                    <p class='snippet'>{source.snippet}</p>
                  )}
                </li>
              ))}
            </ol>
          </div>
        )}
        {related.length > 0 && (
          <div class='sources related'>
            <h2>Related</h2>
            <ul>{related.map(({ source }) => <li key={source.doc_id}>{link(source)}</li>)}</ul>
          </div>
        )}
      </div>
      {rate !== undefined && (
        <div class='rate' role='group' aria-label='Was this helpful?'>
          <span class='muted'>Was this helpful?</span>
          <button type='button' class='quiet' aria-label='Helpful' title='Helpful' onClick={() => rate('up')}>
            <Thumb />
          </button>
          <button type='button' class='quiet' aria-label='Not helpful' title='Not helpful' onClick={() => rate('down')}>
            <Thumb down />
          </button>
        </div>
      )}
    </div>
  )
}
