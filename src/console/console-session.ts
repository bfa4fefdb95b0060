// The console's sign-in, without server-side state: the cookie holds the key's id, an expiry and
// an HMAC of both keyed by the API key itself. Any instance that knows the keys (API_KEYS) can
// check it, so it works behind a load balancer; removing a key from API_KEYS ends its sessions at
// once; the key never leaves the sign-in request (not in a URL, a log line or browser storage).
import { createHmac, timingSafeEqual } from 'node:crypto'
import { keyId, type ApiKey, type Role } from '../config.js'

export interface ConsoleSignIn {
  keyId: string
  role: Role
  expiresAt: Date
}

const PURPOSE = 'parley-console-session'

function mac (key: string, id: string, expires: number): Buffer {
  return createHmac('sha256', key).update(`${PURPOSE}.${id}.${expires}`).digest()
}

export class ConsoleSessions {
  private readonly keys: Map<string, ApiKey>
  private readonly lifetimeMs: number

  constructor (keys: ApiKey[], lifetimeMs: number) {
    this.keys = new Map(keys.map(key => [keyId(key.key), key]))
    this.lifetimeMs = lifetimeMs
  }

  /** The cookie's value for a key that has been checked (see ApiKeys), and what it grants. */
  issue (key: ApiKey, now: Date): { token: string, signIn: ConsoleSignIn } {
    const id = keyId(key.key)
    const expires = now.getTime() + this.lifetimeMs
    return {
      token: `${id}.${expires}.${mac(key.key, id, expires).toString('base64url')}`,
      signIn: { keyId: id, role: key.role, expiresAt: new Date(expires) }
    }
  }

  /** What a cookie grants, or undefined when it is malformed, forged, expired or its key is gone. */
  verify (token: string, now: Date): ConsoleSignIn | undefined {
    const [id, expiresText, signature, ...rest] = token.split('.')
    if (id === undefined || expiresText === undefined || signature === undefined || rest.length > 0 || !/^\d{1,15}$/.test(expiresText)) return undefined
    const key = this.keys.get(id)
    const expires = Number(expiresText)
    if (key === undefined || expires <= now.getTime()) return undefined
    const expected = mac(key.key, id, expires)
    const presented = Buffer.from(signature, 'base64url')
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined
    return { keyId: id, role: key.role, expiresAt: new Date(expires) }
  }
}
