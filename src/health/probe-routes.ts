// The routes that orchestrators and Prometheus call every few seconds: logged at debug and not
// traced, so they never drown the requests people look at.
export const PROBE_ROUTES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics'])

/** True for a request to a probe route, whatever its query string. */
export const isProbe = (url: string): boolean => PROBE_ROUTES.has(url.split('?')[0]!)
