// What of a user may appear in logs: a keyed pseudonym instead of the user id (so one user's
// lines can be followed without knowing who they are), and chat text only as configured.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { scrub } from './scrubber.js'

// Pseudonyms remembered, by user id: the active users of a busy hour, a few hundred kB at most.
const MAX_PSEUDONYMS = 10_000

const PSEUDONYM = /^u_[0-9a-f]{16}$/

export type ChatContentMode = 'off' | 'redacted' | 'full'

export interface LogPrivacyOptions {
  userIdMode: 'hashed' | 'plain'
  /** HMAC key for user pseudonyms; empty means a random key per process until useSecret gives one. */
  idSecret: string
  chatContent: ChatContentMode
}

export class LogPrivacy {
  private readonly options: LogPrivacyOptions
  private secret: Buffer
  private keyed: boolean
  private readonly pseudonyms = new Map<string, string>()

  constructor (options: LogPrivacyOptions) {
    this.options = options
    this.keyed = options.idSecret !== ''
    this.secret = this.keyed ? Buffer.from(options.idSecret) : randomBytes(32)
  }

  /** Whether a user's pseudonym outlives this process: its key was given, not drawn at random. */
  get stablePseudonyms (): boolean { return this.keyed }

  /**
   * A key for another purpose, derived from the pseudonyms' key: as stable, and as secret. HKDF, not
   * HMAC(secret, purpose): a pseudonym is HMAC(secret, user id), and a user id equal to the purpose
   * would have been given the key's first bits as its pseudonym.
   */
  keyFor (purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.secret, 'parley derived keys', purpose, 32))
  }

  /** The key to use from now on (one kept where every instance finds it), before any user is seen. */
  useSecret (secret: string): void {
    this.secret = Buffer.from(secret)
    this.keyed = true
    this.pseudonyms.clear()
  }

  /** The user id as logs show it: its pseudonym, or as given with LOG_USER_ID=plain. */
  userId (userId: string | null | undefined): string | undefined {
    return this.options.userIdMode === 'plain' ? userId ?? undefined : this.pseudonym(userId)
  }

  /**
   * The user's pseudonym, "u_" and 16 hex digits of an HMAC of the id, whatever LOG_USER_ID says
   * for the log files: what spans carry, what an analyst is shown and searches by, and where an id
   * must never be written (the audit trail of an erasure, the erased users remembered).
   */
  pseudonym (userId: string): string
  pseudonym (userId: string | null | undefined): string | undefined
  pseudonym (userId: string | null | undefined): string | undefined {
    if (userId === null || userId === undefined) return undefined
    // A user's turns come in runs: their pseudonym is kept rather than an HMAC made at every turn.
    let pseudonym = this.pseudonyms.get(userId)
    if (pseudonym !== undefined) {
      // Least recently used first: a hit moves to the end.
      this.pseudonyms.delete(userId)
    } else {
      pseudonym = `u_${createHmac('sha256', this.secret).update(userId).digest('hex').slice(0, 16)}`
      if (this.pseudonyms.size >= MAX_PSEUDONYMS) this.pseudonyms.delete(this.pseudonyms.keys().next().value!)
    }
    this.pseudonyms.set(userId, pseudonym)
    return pseudonym
  }

  /**
   * The pseudonym of a user id as a log line holds it: the id itself was logged with
   * LOG_USER_ID=plain, then or at any time before.
   */
  pseudonymOfLogged (logged: string): string {
    return PSEUDONYM.test(logged) ? logged : this.pseudonym(logged)
  }

  /**
   * Lets go of a user's id kept in memory beside their pseudonym (their data was erased); made again if
   * they come back.
   */
  forget (userId: string): void {
    this.pseudonyms.delete(userId)
  }

  /** Chat text as logs may carry it: nothing, scrubbed of personal data, or verbatim. */
  chatText (text: string): string | undefined {
    if (this.options.chatContent === 'off') return undefined
    return this.options.chatContent === 'redacted' ? scrub(text) : text
  }
}
