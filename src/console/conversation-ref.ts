// An analyst is never given a session id: a session id is a capability (whoever holds one reads the
// conversation as written, through GET /v1/sessions/:id/messages), and an analyst may read only
// scrubbed words. The console names a conversation to an analyst by a reference instead: the
// session id encrypted under a key only the server holds (AES-256-GCM, its nonce derived from the
// id, so that one conversation keeps one reference in links, alerts and bookmarks).
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto'

const PREFIX = 'c_'
export const CONVERSATION_REF_PATTERN = '^c_[A-Za-z0-9_-]{59}$'

export class ConversationRefs {
  constructor (private readonly key: Buffer) {}

  ref (sessionId: string): string {
    const id = Buffer.from(sessionId.replaceAll('-', ''), 'hex')
    const nonce = createHmac('sha256', this.key).update(id).digest().subarray(0, 12)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    const sealed = Buffer.concat([nonce, cipher.update(id), cipher.final(), cipher.getAuthTag()])
    return `${PREFIX}${sealed.toString('base64url')}`
  }

  /** The session a reference names, or undefined when it is not one of this server's. */
  sessionId (ref: string): string | undefined {
    if (!ref.startsWith(PREFIX)) return undefined
    const sealed = Buffer.from(ref.slice(PREFIX.length), 'base64url')
    if (sealed.length !== 44) return undefined
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12))
      decipher.setAuthTag(sealed.subarray(28))
      const hex = Buffer.concat([decipher.update(sealed.subarray(12, 28)), decipher.final()]).toString('hex')
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
    } catch {
      return undefined
    }
  }
}
