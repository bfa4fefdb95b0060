// A conversation's entries as the page shows them, and their reload from the transcript
// (GET /v1/sessions/:id/messages) when the page is opened again in the same tab.
import type { ChatResponseType } from '../../src/chat/chat-schemas.js'
import { chatApi } from './api.js'

/** POST /v1/chat's answer. */
export type ChatReply = ChatResponseType

export type Entry =
  | { id: number, role: 'user', text: string }
  | { id: number, role: 'bot', reply: ChatReply }
  /** A reply still being written, as streamed so far. */
  | { id: number, role: 'writing', text: string }
  | { id: number, role: 'notice', text: string, feedback?: boolean }

export async function loadHistory (sessionId: string, entryId: () => number): Promise<Entry[]> {
  const { messages } = await chatApi.messages(sessionId, 50)
  // A rating was sent by the thumbs, not typed: its turn reads as the thanks the user saw.
  const ratings = new Set(
    messages.filter(m => m.role === 'bot' && m.kind === 'command' && m.command === 'feedback').map(m => m.turn)
  )
  const entries: Entry[] = []
  for (const message of messages) {
    if (ratings.has(message.turn)) {
      if (message.role === 'bot') {
        entries.push({ id: entryId(), role: 'notice', text: 'Thanks for your feedback', feedback: true })
      }
    } else if (message.role === 'user') {
      entries.push({ id: entryId(), role: 'user', text: message.content })
    } else {
      entries.push({
        id: entryId(),
        role: 'bot',
        reply: {
          session_id: sessionId,
          turn: message.turn,
          kind: message.kind ?? 'answer',
          reply: message.content,
          sources: message.sources
        }
      })
    }
  }
  return entries
}
