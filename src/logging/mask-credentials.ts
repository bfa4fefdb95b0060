// Settings are shown in the start-up line, on stderr and by GET /status; a URL-valued one may carry
// credentials in its user info (user:password@) or its query (?password=, ?token=, ?sslkey=). One
// function masks them, wherever a URL setting is shown.

const MASK = '****'
// Query parameters that hold credentials: PostgreSQL's (password, sslpassword, sslkey, passfile)
// and the usual names of tokens and keys.
const SECRET_PARAMETER = /pass|secret|token|key|auth|signature|credential/i

/**
 * The URL with its password, secret query parameters and (for webhooks) path masked; text that is not
 * a URL is masked whole.
 */
export function maskUrl (value: string, options: { maskPath?: boolean } = {}): string {
  if (value === '') return value
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return MASK
  }
  const secrets = [...url.searchParams.keys()].filter(name => SECRET_PARAMETER.test(name))
  // An incoming-webhook URL is a credential in its path: whoever has it can post.
  const secretPath = options.maskPath === true && url.pathname !== '/'
  // Shown as given unless it holds something to mask (a URL template's {trace_id} stays readable).
  if (url.password === '' && secrets.length === 0 && !secretPath) return value
  if (url.password !== '') url.password = MASK
  for (const name of secrets) url.searchParams.set(name, MASK)
  if (secretPath) url.pathname = `/${MASK}`
  return url.toString().replaceAll(encodeURIComponent(MASK), MASK)
}
