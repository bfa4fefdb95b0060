// The console's calls to /console/api/*. Each sends X-Requested-With: the server refuses a
// cookie-authenticated request without it, which a form or an image on another site cannot add
// (the CSRF defence), and the cookie goes along only to this origin.
import type { Conversation, ConsoleSession, ConversationsPageType, ConversationsQueryType, Overview, TurnTraceViewType } from '../../src/console/console-schemas.js'
import type { QuestionInput, RunReport, RunsPageType, SavedQuestionsPageType } from '../../src/evaluation/evaluation-schemas.js'
import type { PhrasingAddedType } from '../../src/kb/phrasing-schemas.js'
import { requestJson, type RequestOptions } from '../shared/api.js'

const call = async <T>(path: string, options: RequestOptions = {}): Promise<T> =>
  await requestJson<T>(`/console/api${path}`, { ...options, headers: { 'x-requested-with': 'parley-console', ...options.headers } })

const query = (params: Record<string, string | number | boolean | undefined>): string => {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value))
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}

export const consoleApi = {
  session: async () => await call<ConsoleSession>('/session'),
  // The key travels in the body only, never in a URL, where logs and history would keep it.
  signIn: async (apiKey: string) => await call<ConsoleSession>('/session', { method: 'POST', body: { api_key: apiKey } }),
  signOut: async () => { await call<undefined>('/session', { method: 'DELETE' }) },
  conversations: async (filters: ConversationsQueryType) => await call<ConversationsPageType>(`/conversations${query(filters)}`),
  conversation: async (sessionId: string) => await call<Conversation>(`/conversations/${encodeURIComponent(sessionId)}`),
  trace: async (traceId: string) => await call<TurnTraceViewType>(`/traces/${encodeURIComponent(traceId)}`),
  overview: async (period: 'hour' | 'day' | 'week') => await call<Overview>(`/overview${query({ period })}`),
  evaluationRuns: async (limit = 30) => await call<RunsPageType>(`/evaluations${query({ limit })}`),
  evaluationRun: async (id: string) => await call<RunReport>(`/evaluations/${encodeURIComponent(id)}`),
  /** Runs the saved question set (admin). */
  runEvaluation: async () => await call<RunReport>('/evaluations', { method: 'POST', body: {} }),
  savedQuestions: async () => await call<SavedQuestionsPageType>('/evaluation-questions'),
  addTestQuestion: async (question: QuestionInput) => await call<SavedQuestionsPageType>('/evaluation-questions', { method: 'POST', body: { questions: [question] } }),
  /** Adds a user's question to a document's phrasings, metadata.questions (admin). */
  addPhrasing: async (docId: string, question: string) => await call<PhrasingAddedType>(`/kb/documents/${encodeURIComponent(docId)}/questions`, { method: 'POST', body: { question } })
}
