// The chat page's calls to the public API (/v1), with no key: the page chats as whoever the server
// lets chat without one, and shows a refusal (401 with CHAT_REQUIRE_KEY) as any other problem.
import type {
  ChatRequestType, ChatResponseType, MessagesPageType, SourceDocumentType
} from '../../src/chat/chat-schemas.js'
import { readEvents } from '../shared/events.js'
import { queryString } from '../shared/query.js'
import { apiClient } from '../shared/request.js'

const client = apiClient()
const id = encodeURIComponent

export const chatApi = {
  /** A turn, its reply's text streamed to onText as it is written. */
  send: async (request: ChatRequestType, onText: (text: string) => void) =>
    await readEvents<ChatResponseType>(
      await client.send('/v1/chat', { method: 'POST', body: request }, 'text/event-stream'),
      onText
    ),
  messages: async (sessionId: string, limit: number) =>
    await client.json<MessagesPageType>(`/v1/sessions/${id(sessionId)}/messages${queryString({ limit })}`),
  source: async (docId: string) => await client.json<SourceDocumentType>(`/v1/sources/${id(docId)}`)
}
