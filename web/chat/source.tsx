// A reply's source read whole, in a dialog over the chat: its title, its text (as text: documents
// are written by the team, and shown as written) and, when it has one, a link to where it lives.
import { useEffect, useRef } from 'preact/hooks'
import { useLoad } from '../shared/use-load.js'
import { chatApi } from './api.js'

/**
 * The text under its title: a Markdown document's title is its first level-1 heading
 * (src/kb/document-files.ts), which the dialog's heading already shows.
 */
function textUnderTitle (title: string, text: string): string {
  return text.replace(/^\s*#[ \t]+([^\n]*)\n+/, (line, heading: string) => heading.trim() === title ? '' : line)
}

export function SourceDialog ({ docId, onClose }: { docId: string, onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null)
  const { data: document, error } = useLoad(async () => await chatApi.source(docId), [docId])
  useEffect(() => { dialog.current?.showModal() }, [])
  return (
    <dialog ref={dialog} class='source-dialog' aria-labelledby='source-heading' onClose={onClose}>
      <header>
        <h2 id='source-heading'>{document?.title ?? 'Source'}</h2>
        <button type='button' class='quiet' onClick={() => dialog.current?.close()}>Close</button>
      </header>
      {error !== undefined && <p class='error' role='alert'>{error}</p>}
      {document === undefined && error === undefined && <p class='muted'>Loading…</p>}
      {document !== undefined && <p class='source-text'>{textUnderTitle(document.title, document.text)}</p>}
      {document?.url != null && (
        <p><a href={document.url} target='_blank' rel='noopener noreferrer'>Open the original</a></p>
      )}
    </dialog>
  )
}
