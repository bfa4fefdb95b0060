// Measuring the knowledge base's accuracy: the team's test questions, decided exactly as the chat
// turn decides (same answering collections, same ANSWER_MIN_CONFIDENCE), the runs stored for their
// trend, and the gauge chatbot_kb_evaluation_accuracy_ratio the EvaluationAccuracyLow alert reads.
import fp from 'fastify-plugin'
import { EvaluationStore } from '../src/evaluation/evaluation-store.js'
import { KbEvaluations } from '../src/evaluation/kb-evaluations.js'
import { answeringCollections } from '../src/kb/knowledge-base.js'
import { answerWeightsFor } from '../src/search/answer-decision.js'
import { log } from '../src/logging/log-context.js'

declare module 'fastify' {
  interface FastifyInstance {
    kbEvaluations: KbEvaluations
  }
}

export default fp(async function evaluationPlugin (app) {
  const gauge = app.metrics.kbEvaluationAccuracy
  const kbEvaluations = new KbEvaluations({
    store: new EvaluationStore({ db: app.db, auditTrail: app.auditTrail, now: app.clock }),
    searchEngine: app.searchEngine,
    collections: () => answeringCollections(app.searchEngine.collections(), app.config.KB_BUNDLED_DOCS),
    model: { ...answerWeightsFor(app.searchEngine), threshold: app.config.ANSWER_MIN_CONFIDENCE },
    now: app.clock,
    // With no earlier run of the same questions, "previous" is the latest itself: a drop of 0, not
    // one against a run of other questions that the gauge still held.
    onTrend: trend => {
      for (const { question_set: questionSet, accuracy, previous } of trend) {
        gauge.record(accuracy, { run: 'latest', question_set: questionSet })
        gauge.record(previous ?? accuracy, { run: 'previous', question_set: questionSet })
      }
    }
  })
  app.decorate('kbEvaluations', kbEvaluations)
  // The gauge holds the stored runs' accuracy from the start, not only after this process's first run.
  app.addHook('onReady', async () => {
    await kbEvaluations.refreshTrend().catch((error: unknown) =>
      log('evaluation', 'refreshTrend', app.log).warn({ err: error }, 'could not read the latest evaluation runs'))
  })
}, { name: 'evaluation', dependencies: ['config', 'metrics', 'database', 'knowledge-base'] })
