// A turn refused with 503 or 429 and Retry-After was not kept (the API says so), and the server
// said when to come back: sending it again then, rather than showing the user an error, turns a
// moment of overload into a late answer instead of a failed conversation. The wait is the
// server's, stretched by up to a fifth at random, so that the turns refused together do not all
// come back in the same instant; the user waits no more than RETRY_BUDGET_MS in all.
import { ApiError, errorText, hasStatus } from './problem.js'

/** The longest a refused turn is tried again for, in all, before the page shows the refusal. */
export const RETRY_BUDGET_MS = 30_000
const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 503])
const JITTER = 0.2

/** How long to wait before sending again what `error` refused, or undefined to give up. */
export function retryDelayMs (
  error: unknown, waitedMs: number, random: () => number = Math.random
): number | undefined {
  if (!(error instanceof ApiError) || !RETRIED_STATUSES.has(error.status)) return undefined
  if (error.retryAfterSeconds === undefined) return undefined
  const delayMs = Math.round(error.retryAfterSeconds * 1000 * (1 + JITTER * random()))
  return waitedMs + delayMs > RETRY_BUDGET_MS ? undefined : delayMs
}

export interface RetryOptions {
  /** Told of each wait before it begins, and with undefined once it is over. */
  onWait: (delayMs: number | undefined) => void
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

const pause = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** `attempt`'s result, sent again after each refusal the server said to retry, within the budget. */
export async function withRetries<T> (
  attempt: () => Promise<T>, { onWait, sleep = pause, random }: RetryOptions
): Promise<T> {
  let waitedMs = 0
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      const delayMs = retryDelayMs(error, waitedMs, random)
      if (delayMs === undefined) throw error
      onWait(delayMs)
      await sleep(delayMs)
      onWait(undefined)
      waitedMs += delayMs
    }
  }
}

/**
 * What the user is told of a turn that failed: a refusal given up on in their words (the server's
 * detail names its settings, TURN_LATENCY_GOAL_MS), anything else as the API said it.
 */
export function turnFailureText (error: unknown, pageName: string): string {
  return hasStatus(error, 503)
    ? `${pageName} is too busy to answer just now, and your message was not kept. Please send it again in a moment.`
    : errorText(error)
}
