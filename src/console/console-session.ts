// The console's sign-in: the cookie holds the key's id, an expiry and an HMAC of both keyed by the
// API key itself. Any instance that knows the keys (API_KEYS) can check it, so it works behind a
// load balancer; removing a key from API_KEYS ends its sign-ins at once; the key never leaves the
// sign-in request (not in a URL, a log line or browser storage). Signing out records the cookie's
// hash in the database until it would have expired, so a copy of it taken before is refused too.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { keyId, type ApiKey, type Role } from '../config.js'
import type { Queryable } from '../db/database.js'

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

  /**
   * What a cookie grants, or undefined when it is malformed, forged, expired or its key is gone.
   * Only the spelling issue() writes is accepted: a sign-out records the cookie as spelt, so
   * another spelling of the same grant (a leading zero, a base64 pad) would outlive it.
   */
  verify (token: string, now: Date): ConsoleSignIn | undefined {
    const [id, expiresText, signature, ...rest] = token.split('.')
    const malformed = id === undefined || expiresText === undefined || signature === undefined ||
      rest.length > 0 || !/^\d{1,15}$/.test(expiresText)
    if (malformed) return undefined
    const key = this.keys.get(id)
    const expires = Number(expiresText)
    if (key === undefined || expires <= now.getTime()) return undefined
    const expected = mac(key.key, id, expires)
    const presented = Buffer.from(token)
    const canonical = Buffer.from(`${id}.${expires}.${expected.toString('base64url')}`)
    if (presented.length !== canonical.length || !timingSafeEqual(presented, canonical)) return undefined
    return { keyId: id, role: key.role, expiresAt: new Date(expires) }
  }
}

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('base64url')

/** Ends a sign-in on every instance (forgetting sign-ins that have expired anyway). */
export async function signOut (db: Queryable, token: string, signIn: ConsoleSignIn, now: Date): Promise<void> {
  await db.query('DELETE FROM console_sign_outs WHERE expires_at <= $1', [now])
  await db.query(
    'INSERT INTO console_sign_outs (token_hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [tokenHash(token), signIn.expiresAt])
}

export async function signedOut (db: Queryable, token: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM console_sign_outs WHERE token_hash = $1', [tokenHash(token)])
  return rows.length > 0
}
