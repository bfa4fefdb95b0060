// Personal data as a whole (src/privacy/personal-data.ts): a user's or a session's erasure and a
// user's export, which cut across the sessions, the transcript, the turn traces and the saved test
// questions, so this plugin comes after all of them. Hourly and at start, it forgets erasures
// remembered for longer than a day. An erasure lets go of what this instance holds in memory of it
// once it commits.
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

export default fp(async function personalDataPlugin (app) {
  const personalData = new PersonalData({
    db: app.db,
    auditTrail: app.auditTrail,
    sessionManager: app.sessionManager,
    messageStore: app.messageStore,
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

  const run = async (): Promise<void> => {
    try {
      await runWithLogger(app.log as Logger, async () => {
        await personalData.forgetOldErasures()
      })
    } catch (error) {
      log('privacy', 'forgetOldErasures', app.log).error({ err: error }, 'old erasures could not be forgotten; will retry at the next run')
    }
  }
  // A run still going is not doubled by the next, and is waited for at close.
  let running: Promise<void> | undefined
  const sweep = (): void => {
    running ??= run().finally(() => { running = undefined })
  }
  let timer: NodeJS.Timeout | undefined
  app.addHook('onReady', async () => {
    // Outside any request's context, which a timer would keep; not awaited.
    outsideAnyContext(() => {
      timer = setInterval(sweep, HOUR_MS).unref()
      sweep()
    })
  })
  app.addHook('preClose', async () => {
    clearInterval(timer)
    await running
  })
}, {
  name: 'personal-data',
  dependencies: ['config', 'database', 'request-logging', 'session-manager', 'chat-service', 'evaluation', 'turn-traces']
})
