#!/usr/bin/env node
// `npm run erase -- --user <id> | --session <id> [--url <server>] [--format text|json]`: erases
// everything held about a user, or one session, as POST /v1/admin/erasures does, and prints how
// much went. Through a running server with --url (PARLEY_API_KEY an admin key: the audit entry
// names that key), or on the configured database directly (the audit entry names "erase"), which
// the embedded database allows only while the server is stopped. `--user -` reads the id from
// stdin, so that it stays out of the shell's history and `ps`.
import { text } from 'node:stream/consumers'
import { parseArgs } from 'node:util'
import { AuditTrail } from '../audit/audit-trail.js'
import { TranscriptRepository } from '../transcript/transcript-repository.js'
import { EvaluationStore } from '../evaluation/evaluation-store.js'
import { busyRetryDelayMs } from '../http/busy-retry.js'
import { isUuid } from '../http/schemas.js'
import { LogPrivacy } from '../logging/log-privacy.js'
import { usePseudonymKey } from '../privacy/pseudonym-key.js'
import { scrub } from '../logging/scrubber.js'
import type { ErasureReport } from '../privacy/personal-data-schemas.js'
import { PersonalData, type ErasureSubject } from '../privacy/personal-data.js'
import { SessionManager } from '../sessions/session-manager.js'
import { adminEndpoint, CliError, openConfiguredDatabase } from './cli-targets.js'
import { argsProblem, isEntryPoint, runAsProgram, type Io } from './entry-point.js'

const USAGE = 'Usage: npm run erase -- (--user <user id> | --user - | --session <session id>)\n' +
  '  [--url <running server, e.g. http://127.0.0.1:3000>] [--format text|json]\n' +
  'Erases everything Parley holds about a user id (--user; "-" reads it from stdin) or one session: sessions,\n' +
  'messages, feedback, turn traces and saved test questions taken from their words.\n' +
  'With --url, PARLEY_API_KEY must hold an admin key of that server.\n' +
  'Exit codes: 0 done (nothing left to erase included); 2 a usage error or a failure, and nothing was erased.'
// Who the audit trail names for an erasure made on the database directly: the operator at the console.
const AUDIT_ACTOR = 'erase'
const USER_ID_MAX = 128

const OPTIONS = {
  user: { type: 'string' },
  session: { type: 'string' },
  url: { type: 'string' },
  format: { type: 'string', default: 'text' },
  help: { type: 'boolean', short: 'h' }
} as const

interface Eraser {
  description: string
  erase: (subject: ErasureSubject) => Promise<ErasureReport>
  close: () => Promise<void>
}

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`

/** The report as a person reads it: who, then how much of each. */
export function formatReport (report: ErasureReport): string {
  const { erased } = report
  const who = report.subject === 'user'
    ? `user ${report.user_pseudonym ?? ''}`.trimEnd()
    : `session ${report.session_id ?? ''}${report.user_pseudonym === null ? '' : ` (of user ${report.user_pseudonym})`}`
  const counts = [
    plural(erased.sessions, 'session'),
    plural(erased.messages, 'message'),
    plural(erased.feedback, 'rating'),
    plural(erased.turn_traces, 'turn trace'),
    plural(erased.evaluation_questions, 'saved test question'),
    `${plural(erased.evaluation_runs, 'accuracy run')} with their words blanked`
  ]
  const nothing = Object.values(erased).every(count => count === 0) ? ' Nothing was left to erase.' : ''
  return `Erased ${who} at ${report.erased_at}: ${counts.join(', ')}.${nothing}`
}

/** The configured database, with the pseudonyms' key the server uses. */
async function databaseEraser (env: Record<string, string | undefined>): Promise<Eraser> {
  const { config, db, description } = await openConfiguredDatabase(env, {
    inMemory: 'holds nothing to erase; set DATA_DIR to the server\'s folder or DATABASE_URL, or use --url.',
    whenLocked: 'Erase through the server: --url <its address> with PARLEY_API_KEY.',
    whenMissing: 'set DATA_DIR to the server\'s folder or DATABASE_URL, or erase through the server: ' +
      '--url <its address> with PARLEY_API_KEY.'
  })
  const privacy = new LogPrivacy({ userIdMode: config.LOG_USER_ID, idSecret: config.LOG_ID_SECRET, chatContent: 'off' })
  await usePseudonymKey(db, privacy, config)
  const auditTrail = new AuditTrail({ db })
  const limits = {
    idleTimeoutMs: config.SESSION_IDLE_TIMEOUT * 1000,
    maxAgeMs: config.SESSION_MAX_AGE * 1000,
    maxActive: config.MAX_ACTIVE_SESSIONS,
    maxPerUser: config.MAX_SESSIONS_PER_USER
  }
  const pseudonym = (userId: string): string => privacy.pseudonym(userId)
  const personalData = new PersonalData({
    db,
    auditTrail,
    sessionManager: new SessionManager({ db, auditTrail, limits, pseudonym }),
    transcript: new TranscriptRepository(db),
    evaluationStore: new EvaluationStore({ db, auditTrail }),
    pseudonym,
    scrub
  })
  return {
    description,
    erase: async subject => {
      try {
        return await personalData.erase(subject, AUDIT_ACTOR)
      } catch (error) {
        throw new CliError(`nothing was erased: ${(error as Error).message}`)
      }
    },
    close: () => db.close()
  }
}

function serverEraser (
  url: string,
  env: Record<string, string | undefined>,
  sleep: (ms: number) => Promise<void>
): Eraser {
  const server = adminEndpoint(url, 'v1/admin/erasures', env)
  return {
    description: `the server at ${server.endpoint.origin}`,
    erase: async subject => {
      const body = 'userId' in subject ? { user_id: subject.userId } : { session_id: subject.sessionId }
      for (let attempt = 0; ; attempt++) {
        const { response, answer } = await server.post<ErasureReport>(body)
        if (response.status === 200) return answer
        // A 503 here may also say the subject's sessions are in use: it too says when to come back.
        const delayMs = busyRetryDelayMs(response, attempt)
        if (delayMs !== undefined) {
          await sleep(delayMs)
          continue
        }
        throw server.refused(response, answer)
      }
    },
    close: async () => {}
  }
}

/** What to erase, from the options; a string says what is wrong with them. */
async function subjectOf (
  user?: string,
  session?: string,
  stdin: NodeJS.ReadableStream = process.stdin
): Promise<ErasureSubject | string> {
  if ((user === undefined) === (session === undefined)) return `give exactly one of --user and --session.\n${USAGE}`
  if (session !== undefined) {
    if (isUuid(session)) return { sessionId: session }
    return '--session must be a session id (a UUID such as 0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b), ' +
      `not ${JSON.stringify(session)}.`
  }
  // A user id from stdin: its last line ending is not part of it.
  const userId = user === '-' ? (await text(stdin)).replace(/\r?\n$/, '') : user!
  if (userId.length < 1 || userId.length > USER_ID_MAX || userId.includes('\u0000')) {
    const given = user === '-' ? `; stdin gave ${userId.length} characters` : ''
    return `--user must be a user id of 1 to ${USER_ID_MAX} characters without NUL ` +
      `(the one the client sends as user_id)${given}.`
  }
  return { userId }
}

/** Runs the command; resolves to the exit code: 0 erased (or nothing to erase), 2 failed and nothing was erased. */
export async function main (
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io & { stdin?: NodeJS.ReadableStream } = process,
  sleep: (ms: number) => Promise<void> = ms => new Promise(resolve => setTimeout(resolve, ms))
): Promise<number> {
  const fail = (message: string): number => { io.stderr.write(`erase: ${message}\n`); return 2 }
  let args
  try {
    args = parseArgs({ args: argv, options: OPTIONS })
  } catch (error) {
    return fail(`${argsProblem(error)}\n${USAGE}`)
  }
  if (args.values.help === true) {
    io.stdout.write(`${USAGE}\n`)
    return 0
  }
  const { format, url, user, session } = args.values
  if (format !== 'text' && format !== 'json') {
    return fail(`--format must be text or json, not ${JSON.stringify(format)}.`)
  }
  const subject = await subjectOf(user, session, io.stdin ?? process.stdin)
  if (typeof subject === 'string') return fail(subject)

  let eraser: Eraser | undefined
  try {
    eraser = url === undefined ? await databaseEraser(env) : serverEraser(url, env, sleep)
    const what = 'userId' in subject ? 'a user' : `session ${subject.sessionId}`
    if (format === 'text') io.stderr.write(`Erasing ${what} in ${eraser.description}.\n`)
    const report = await eraser.erase(subject)
    io.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`)
    return 0
  } catch (error) {
    if (error instanceof CliError) return fail(error.message)
    throw error
  } finally {
    await eraser?.close()
  }
}

if (isEntryPoint(import.meta.url)) await runAsProgram(main)
