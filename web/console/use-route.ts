// The route as Preact state, following the location hash (route.ts), and the way to change it.
import { useEffect, useState } from 'preact/hooks'
import { parseHash, type Route } from './route.js'

export function useRoute (): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash))
  useEffect(() => {
    const changed = (): void => { setRoute(parseHash(location.hash)) }
    addEventListener('hashchange', changed)
    return () => { removeEventListener('hashchange', changed) }
  }, [])
  return route
}

export const navigate = (hash: string): void => { location.hash = hash }
