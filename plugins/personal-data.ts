// Personal data as a whole (src/privacy/personal-data.ts): a user's or a session's erasure and a
// user's export, which cut across the sessions, the transcript, the turn traces and the saved test
// questions, so this plugin comes after all of them. It also runs retention hourly and at start:
// conversations older than CONVERSATION_RETENTION_DAYS, and erasures remembered for longer than a
// day. An erasure lets go of what this instance holds in memory of it once it commits.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { log, outsideAnyContext, runWithLogger } from '../src/logging/log-context.js'
import { scrub } from '../src/logging/scrubber.js'
import { PersonalData } from '../src/privacy/personal-data.js'

declare module 'fastify' {
  interface FastifyInstance {
    personalData: PersonalData
  }
}

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

export default fp(async function personalDataPlugin (app) {
  const personalData = new PersonalData({
    db: app.db,
    auditTrail: app.auditTrail,
    sessionManager: app.sessionManager,
    transcript: app.transcript,
    evaluationStore: app.kbEvaluations.store,
    pseudonym: userId => app.logPrivacy.pseudonym(userId),
    scrub,
    onErased: ({ sessionIds, userId, userPseudonym }) => {
      app.turnTraces.forget(sessionIds, userPseudonym)
      if (userId !== undefined) app.logPrivacy.forget(userId)
    },
    now: app.clock
  })
  app.decorate('personalData', personalData)

  const days = app.config.CONVERSATION_RETENTION_DAYS
  const closing = new AbortController()
  const run = async (): Promise<void> => {
    try {
      await runWithLogger(app.log as Logger, async () => {
        await personalData.forgetOldErasures()
        const cutoff = new Date(app.clock().getTime() - days * DAY_MS)
        if (days > 0) await personalData.deleteConversationsBefore(cutoff, { signal: closing.signal })
      })
    } catch (error) {
      log('privacy', 'retention', app.log).error({ err: error }, 'retention failed; will retry at the next run')
    }
  }
  // A run still going (a large backlog) is not doubled by the next; at close it stops after its batch.
  let running: Promise<void> | undefined
  const sweep = (): void => {
    running ??= run().finally(() => { running = undefined })
  }
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    // Outside any request's context, which a timer would keep; not awaited: a backlog is deleted
    // while the app serves.
    outsideAnyContext(() => {
      timer = setInterval(sweep, HOUR_MS).unref()
      sweep()
    })
  })
  app.addHook('preClose', async () => {
    clearInterval(timer)
    closing.abort()
    await running
  })
}, {
  name: 'personal-data',
  dependencies: [
    'config', 'database', 'request-logging', 'session-manager', 'chat-service', 'evaluation', 'turn-traces'
  ]
})
