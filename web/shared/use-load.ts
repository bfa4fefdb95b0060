// How every view fetches: what it shows is the answer for its current inputs, never an earlier
// input's answer that came late (latest.ts), and a failure is shown as its problem's detail. A 401
// is not the view's to handle: the console's sign-in hears it (request.ts) and replaces the view.
import { useEffect, useMemo, useState } from 'preact/hooks'
import { createLatest, type Latest } from './latest.js'
import { errorText } from './problem.js'

/** A view's own Latest, whose answers are dropped once the view is gone. */
export function useLatest (): Latest {
  const latest = useMemo(createLatest, [])
  useEffect(() => () => { latest.drop() }, [latest])
  return latest
}

export interface Loaded<T> {
  /** The answer for the current inputs: undefined until it comes. */
  data: T | undefined
  error: string | undefined
  /** Asks again for the same inputs; what is shown stays until the answer comes. */
  reload: () => Promise<void>
}

type Input = string | number | boolean | null | undefined

/** Calls load when the inputs change, as useEffect would with them as its dependencies. */
export function useLoad<T> (load: () => Promise<T>, inputs: readonly Input[]): Loaded<T> {
  const key = JSON.stringify(inputs)
  const latest = useLatest()
  // The state names the inputs it was fetched for: in the render where they change, it is not theirs.
  const [state, setState] = useState<{ key: string, data?: T, error?: string }>({ key })
  const ask = async (): Promise<void> => {
    setState(previous => previous.key === key ? { key, data: previous.data } : previous)
    await latest.run(load(), data => { setState({ key, data }) }, error => {
      setState(previous => ({ key, data: previous.key === key ? previous.data : undefined, error: errorText(error) }))
    })
  }
  useEffect(() => { ask().catch(() => undefined) }, [key])
  const current = state.key === key ? state : { data: undefined, error: undefined }
  return { data: current.data, error: current.error, reload: ask }
}
