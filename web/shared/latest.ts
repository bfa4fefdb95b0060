// Only the latest answer counts: a view asks again when what it shows changes (other filters,
// another conversation), and the answer to an earlier question, arriving late, must not replace
// the later one. A ticket per request rather than an AbortController: the server finishes the
// work either way, and a cancelled fetch would be a failed request in the browser's log.
export interface Latest {
  /**
   * Calls done or failed with the request's outcome, unless another request was run after it or
   * drop() was called since.
   */
  run: <T>(request: Promise<T>, done: (value: T) => void, failed: (error: unknown) => void) => Promise<void>
  /** Drops the answers of every request run so far: the view that asked is gone. */
  drop: () => void
}

export function createLatest (): Latest {
  let issued = 0
  return {
    async run (request, done, failed) {
      const ticket = ++issued
      await request.then(
        value => { if (ticket === issued) done(value) },
        (error: unknown) => { if (ticket === issued) failed(error) }
      )
    },
    drop () { issued++ }
  }
}
