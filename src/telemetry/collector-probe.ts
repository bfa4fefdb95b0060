// Whether anything listens at a collector's address, asked when the process stops. With nothing
// there the last export is refused and retried about a second later (the OTLP exporter's backoff),
// so a stop waited out its whole flush budget: 1.1 s against 0.1 s with telemetry off.
import { connect } from 'node:net'
import { getStringFromEnv } from '@opentelemetry/core'

/** Where the OTLP exporters send when no OTEL_EXPORTER_OTLP_*ENDPOINT says otherwise. */
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318'

/**
 * Where the OTLP exporters send the signals without an endpoint of their own. Read by the SDK's
 * own reader, to which an empty or blank variable is unset, so that the start-up line and /status
 * name where the exporters send.
 */
export function otlpEndpoint (): string {
  return getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') ?? DEFAULT_OTLP_ENDPOINT
}

/** Where the OTLP exporters send a signal, as they read the environment. */
export function signalEndpoint (signal: 'TRACES' | 'METRICS' | 'LOGS'): string {
  return getStringFromEnv(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`) ?? otlpEndpoint()
}

/**
 * Waits for `flushing` within budgetMs, or not at all when nothing listens at any of the URLs (with
 * none given, the flush is the process's own and is waited for): what is not out by then is
 * dropped. Whether it waited.
 */
export async function flushWithin (flushing: Promise<unknown>, urls: string[], budgetMs: number): Promise<boolean> {
  // A failed flush is no error of the shutdown's, even when it fails before the probe answers.
  const flushed = flushing.catch(() => {})
  const budget = new Promise(resolve => setTimeout(resolve, budgetMs).unref())
  // The probe has the whole budget: a thread busy meanwhile must not read as a collector there.
  const listening = await Promise.all(urls.map(async url => await listensAt(url, budgetMs)))
  if (urls.length > 0 && !listening.includes(true)) return false
  await Promise.race([flushed, budget])
  return true
}

/**
 * True when a connection to the URL's host and port is accepted, or not refused within timeoutMs
 * (a slow collector is still one); false when it is refused or the URL is not one.
 */
export async function listensAt (url: string, timeoutMs: number): Promise<boolean> {
  let address: URL
  try {
    address = new URL(url)
  } catch {
    return false
  }
  const port = Number(address.port === '' ? (address.protocol === 'https:' ? 443 : 80) : address.port)
  // An IPv6 host is bracketed in a URL ([::1]), not for connect().
  const host = address.hostname.replace(/^\[(.*)\]$/, '$1')
  return await new Promise(resolve => {
    const socket = connect({ host, port })
    const answer = (listens: boolean): void => {
      socket.destroy()
      resolve(listens)
    }
    socket.setTimeout(timeoutMs, () => answer(true))
    socket.once('connect', () => answer(true))
    socket.once('error', () => answer(false))
  })
}
