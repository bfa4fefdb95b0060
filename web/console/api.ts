// The console's calls to /console/api/*. Each sends X-Requested-With: the server refuses a
// cookie-authenticated request without it, which a form or an image on another site cannot add
// (the CSRF defence), and the cookie goes along only to this origin.
import type {
  Conversation, ConsoleSession, ConversationsPageType, ConversationsQueryType, OverviewQueryType, Overview,
  SignInBodyType, TurnTraceViewType
} from '../../src/console/console-schemas.js'
import type {
  QuestionInput, RunReport, RunsPageType, RunsQueryType, SaveQuestionsBodyType, SavedQuestionsPageType
} from '../../src/evaluation/evaluation-schemas.js'
import type { PhrasingAddedType, PhrasingBodyType } from '../../src/kb/phrasing-schemas.js'
import { queryString } from '../shared/query.js'
import { apiClient } from '../shared/request.js'

const client = apiClient({ base: '/console/api', headers: { 'x-requested-with': 'parley-console' } })
const id = encodeURIComponent

/**
 * Calls listener when the API answers 401 to a signed-in call: the sign-in ended (expired, or
 * signed out elsewhere).
 */
export const onSignInEnded = client.onUnauthorized

export const consoleApi = {
  session: async () => await client.json<ConsoleSession>('/session', { authenticating: true }),
  // The key travels in the body only, never in a URL, where logs and history would keep it.
  signIn: async (apiKey: string) =>
    await client.json<ConsoleSession>('/session', {
      method: 'POST',
      body: { api_key: apiKey } satisfies SignInBodyType,
      authenticating: true
    }),
  signOut: async () => { await client.json<undefined>('/session', { method: 'DELETE', authenticating: true }) },
  conversations: async (filters: ConversationsQueryType) =>
    await client.json<ConversationsPageType>(`/conversations${queryString(filters)}`),
  conversation: async (sessionId: string) => await client.json<Conversation>(`/conversations/${id(sessionId)}`),
  trace: async (traceId: string) => await client.json<TurnTraceViewType>(`/traces/${id(traceId)}`),
  overview: async (query: OverviewQueryType) => await client.json<Overview>(`/overview${queryString(query)}`),
  evaluationRuns: async (query: RunsQueryType = { limit: 30 }) =>
    await client.json<RunsPageType>(`/evaluations${queryString(query)}`),
  evaluationRun: async (runId: string) => await client.json<RunReport>(`/evaluations/${id(runId)}`),
  /** Runs the saved question set (admin). */
  runEvaluation: async () => await client.json<RunReport>('/evaluations', { method: 'POST', body: {} }),
  savedQuestions: async () => await client.json<SavedQuestionsPageType>('/evaluation-questions'),
  addTestQuestion: async (question: QuestionInput) =>
    await client.json<SavedQuestionsPageType>('/evaluation-questions', {
      method: 'POST',
      body: { questions: [question] } satisfies SaveQuestionsBodyType
    }),
  /** Adds a user's question to a document's phrasings, metadata.questions (admin). */
  addPhrasing: async (docId: string, question: string) =>
    await client.json<PhrasingAddedType>(`/kb/documents/${id(docId)}/questions`, {
      method: 'POST',
      body: { question } satisfies PhrasingBodyType
    })
}
