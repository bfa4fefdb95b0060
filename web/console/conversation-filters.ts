// The conversations list's filters, as a link's hash states them
// (#/conversations?kind=no_answer&range=day), read into the API's query, and the ones it cannot
// apply (min_latency_ms=abc, kind=answered) named for the view to say so.
import type { ConversationsQueryType } from '../../src/console/console-schemas.js'

const RANGES = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const
export const KINDS: ReadonlyArray<NonNullable<ConversationsQueryType['kind']>> = [
  'answer', 'no_answer', 'smalltalk', 'command', 'command_error'
]
const FILTERS = ['q', 'range', 'user', 'kind', 'feedback', 'errors', 'min_latency_ms', 'source'] as const
/** The hash's words for the filters, before toQuery reads them into the API's query. */
export type Filters = Partial<Record<typeof FILTERS[number], string>>

export const filtersOf = (params: URLSearchParams): Filters =>
  Object.fromEntries(FILTERS.map(name => [name, params.get(name) ?? undefined]))

const rangeOf = (filters: Filters): number | undefined => RANGES[filters.range as keyof typeof RANGES]
const kindOf = (filters: Filters): ConversationsQueryType['kind'] => KINDS.find(known => known === filters.kind)
const slowerOf = (filters: Filters): number | undefined => {
  const slower = Number(filters.min_latency_ms)
  return /^\d+$/.test(filters.min_latency_ms ?? '') && Number.isSafeInteger(slower) ? slower : undefined
}

export function toQuery (filters: Filters, before: string | undefined, now = Date.now()): ConversationsQueryType {
  const span = rangeOf(filters)
  return {
    q: filters.q,
    from: span === undefined ? undefined : new Date(now - span).toISOString(),
    user: filters.user,
    kind: kindOf(filters),
    feedback: filters.feedback === 'down' ? 'down' : undefined,
    errors: filters.errors === 'true' ? true : undefined,
    min_latency_ms: slowerOf(filters),
    source: filters.source,
    limit: 25,
    before
  }
}

/**
 * The text fields' values for a link's filters. A latency the list cannot apply is left out: a
 * number field cannot show "abc", and the next search would otherwise keep it in the link.
 */
export function draftOf (filters: Filters): { q: string, user: string, min_latency_ms: string } {
  return { q: filters.q ?? '', user: filters.user ?? '', min_latency_ms: String(slowerOf(filters) ?? '') }
}

/**
 * Each filter of the link that toQuery could not apply, with what it takes ("kind=answered (one
 * of …)"): a filter given that the query does not carry. "All time" and "Any" are choices, not
 * values to carry.
 */
export function leftOut (filters: Filters): string[] {
  const query = toQuery(filters, undefined)
  const takes: Array<[name: keyof Filters, applied: unknown, takes: string]> = [
    ['range', filters.range === 'all' ? 'all' : query.from, `one of ${[...Object.keys(RANGES), 'all'].join(', ')}`],
    ['kind', filters.kind === '' ? 'any' : query.kind, `one of ${KINDS.join(', ')}`],
    ['feedback', query.feedback, 'only down'],
    ['errors', query.errors, 'only true'],
    ['min_latency_ms', query.min_latency_ms, 'a whole number of milliseconds']
  ]
  return takes.filter(([name, applied]) => filters[name] !== undefined && applied === undefined)
    .map(([name, , what]) => `${name}=${filters[name] ?? ''} (${what})`)
}
