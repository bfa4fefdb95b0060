// A request refused with 503 (overloaded, the database briefly away) or 429 (rate-limited) kept
// nothing, and its Retry-After says when to come back: the CLIs that call a running server send it
// again then, a few times, rather than stop an import or an erasure halfway for a moment's load.
// (The chat page, whose user waits, has its own budget: web/shared/retry.ts.)

/** Refusals sent again before the last one is reported. */
export const MAX_BUSY_RETRIES = 5
/** A longer Retry-After is waited for this long: the run goes on, or reports, within minutes. */
const MAX_RETRY_AFTER_S = 30

/** How long to wait before sending again what `response` refused on try `attempt` (from 0), or undefined. */
export function busyRetryDelayMs (response: Response, attempt: number): number | undefined {
  if ((response.status !== 503 && response.status !== 429) || attempt >= MAX_BUSY_RETRIES) return undefined
  const retryAfter = Number(response.headers.get('retry-after'))
  const waitS = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1
  return 1000 * Math.min(MAX_RETRY_AFTER_S, waitS)
}
