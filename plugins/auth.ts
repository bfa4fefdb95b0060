// Role-based access by API key (API_KEYS="key:admin,key:analyst", sent as a Bearer token).
// Keys are compared in constant time and only their id, a hash prefix, is ever recorded.
import fp from 'fastify-plugin'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { keyId, parseApiKeys, type ApiKey, type Role } from '../src/config.js'
import { DenialAudit } from '../src/audit/denial-audit.js'
import { sendProblem } from '../src/http/problem.js'
import { log } from '../src/logging/log-context.js'
import { KeyGuesses } from '../src/auth/key-guesses.js'
import { LimitExceededError } from '../src/errors.js'

export interface Principal { keyId: string, role: Role }

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook that admits only callers whose key has one of the roles, before any body is read. */
    requireRole: (...roles: Role[]) => onRequestAsyncHookHandler
    /** An onRequest hook for chat routes: open unless CHAT_REQUIRE_KEY=true, then any valid key. */
    chatAccess: onRequestAsyncHookHandler
    /** The configured key a presented one is, compared and counted as requests' keys are (the console's sign-in). */
    findApiKey: (request: FastifyRequest, presented: string) => ApiKey | undefined
    /**
     * Refuses a request as every refused credential is: audited (a flood as one entry), with a
     * Bearer challenge on 401.
     */
    denyAccess: (
      request: FastifyRequest, reply: FastifyReply, status: 401 | 403, detail: string, actor: string
    ) => Promise<FastifyReply>
  }
  interface FastifyRequest {
    principal: Principal | null
    /** Who the audit trail names for this request: the key id, or "anonymous". */
    readonly actor: string
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

export default fp(async function authPlugin (app) {
  const keys = parseApiKeys(app.config.API_KEYS).map(apiKey => ({
    digest: digest(apiKey.key),
    keyId: keyId(apiKey.key),
    role: apiKey.role,
    apiKey
  }))
  app.decorateRequest('principal', null)
  app.decorateRequest('actor', { getter (this: FastifyRequest) { return this.principal?.keyId ?? 'anonymous' } })

  const maxWrongKeys = app.config.WRONG_KEYS_PER_MINUTE
  const guesses = new KeyGuesses({ max: maxWrongKeys, now: () => app.clock().getTime() })

  // Hashing first gives equal-length buffers; every key is compared so timing does not reveal which matched.
  function identify (request: FastifyRequest): Principal | null | undefined {
    const header = request.headers.authorization
    if (header === undefined) return undefined
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    const key = match === null ? undefined : checked(request, match[1]!)
    return key === undefined ? null : { keyId: key.keyId, role: key.role }
  }

  /** The key presented, counted when wrong; refused unheard when its address guessed too often. */
  function checked (request: FastifyRequest, presented: string): typeof keys[number] | undefined {
    const retryAfter = guesses.retryAfter(request.ip)
    if (retryAfter > 0) {
      throw new LimitExceededError('wrong_keys_per_client', maxWrongKeys, retryAfter,
        `This address sent ${maxWrongKeys} wrong API keys in the last minute (WRONG_KEYS_PER_MINUTE); ` +
        `no key from it is checked for ${retryAfter} s.`)
    }
    const key = find(presented)
    if (key === undefined) guesses.wrong(request.ip)
    return key
  }

  function find (presented: string): typeof keys[number] | undefined {
    const presentedDigest = digest(presented)
    let found: typeof keys[number] | undefined
    for (const key of keys) if (timingSafeEqual(key.digest, presentedDigest)) found = key
    return found
  }
  app.decorate('findApiKey', (request: FastifyRequest, presented: string) => checked(request, presented)?.apiKey)

  // Every refusal is audited, a flood of them as one entry a minute per source (src/audit/denial-audit.ts).
  const denials = new DenialAudit({ record: event => app.auditTrail.record(event), now: app.clock })
  const auditFailed = (error: unknown): void => {
    log('auth', 'deny').error({ err: error }, 'could not record denied requests in the audit trail')
  }
  const flushTimer = setInterval(() => { denials.flush().catch(auditFailed) }, 10_000).unref()
  // preClose: while the database is still open.
  app.addHook('preClose', async () => {
    clearInterval(flushTimer)
    await denials.flush(true).catch(auditFailed)
  })

  async function deny (
    request: FastifyRequest, reply: FastifyReply, status: 401 | 403, detail: string, actor: string
  ): Promise<FastifyReply> {
    const target = `${request.method} ${request.routeOptions.url ?? request.url}`
    await denials.denied({ actor, address: request.ip, target, status }).catch(auditFailed)
    if (status === 401) reply.header('www-authenticate', 'Bearer')
    // An async hook that answers must resolve to the reply: Fastify otherwise goes on to the
    // handler whenever the response is not yet written out (an onSend hook still running), and a
    // refused key's request was served as well (an analyst's GET /v1/admin/user-data exported).
    return sendProblem(request, reply, status, status === 401 ? 'unauthorized' : 'forbidden', detail)
  }
  app.decorate('denyAccess', deny)

  app.decorate('requireRole', (...roles: Role[]): onRequestAsyncHookHandler =>
    async function checkRole (request, reply) {
      if (keys.length === 0) {
        return sendProblem(request, reply, 403, 'admin-disabled',
          'This route is disabled because no API keys are configured. ' +
          'Set API_KEYS="<key>:admin" (keys of at least 16 characters) and restart.')
      }
      const principal = identify(request)
      if (principal === undefined) {
        return await deny(request, reply, 401,
          'This route needs an API key: send "Authorization: Bearer <key>".', 'anonymous')
      }
      if (principal === null) return await deny(request, reply, 401, 'The API key is not valid.', 'unknown-key')
      if (!roles.includes(principal.role)) {
        return await deny(request, reply, 403,
          `This route needs the ${roles.join(' or ')} role; the key has the ${principal.role} role.`, principal.keyId)
      }
      request.principal = principal
    })

  app.decorate('chatAccess', async function checkChatAccess (request: FastifyRequest, reply: FastifyReply) {
    const principal = identify(request)
    // A key that is wrong is refused even where none is needed: served as anonymous, a caller's
    // misconfigured key would go unnoticed, and its turns unattributed.
    if (principal === null) return await deny(request, reply, 401, 'The API key is not valid.', 'unknown-key')
    if (principal !== undefined) request.principal = principal
    if (!app.config.CHAT_REQUIRE_KEY) return
    if (principal === undefined) {
      return await deny(request, reply, 401,
        'Chat needs an API key (CHAT_REQUIRE_KEY=true): send "Authorization: Bearer <key>".', 'anonymous')
    }
  })
}, { name: 'auth', dependencies: ['config', 'database'] })
