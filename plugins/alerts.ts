// Alerting that works with no monitoring stack: every ALERTS_EVAL_INTERVAL the evaluator reads
// sliding windows of the app's own measurements against the rules (built-in, tuned by
// ALERTS_CONFIG) and the dispatcher tells Slack, a webhook or e-mail. GET /v1/admin/alerts and
// chatbot_alerts_firing show the state, which a restart keeps (src/alerts/alert-states.ts).
import fp from 'fastify-plugin'
import { hostname } from 'node:os'
import type { BatchObservableResult } from '@opentelemetry/api'
import type { Logger } from 'pino'
import { resolve } from 'node:path'
import { AlertEvaluator, type AlertState } from '../src/alerts/alert-evaluator.js'
import { loadAlertStates, saveAlertStates } from '../src/alerts/alert-states.js'
import { measureReader } from '../src/alerts/alert-measures.js'
import type { AlertNotification } from '../src/alerts/alert-notification.js'
import { alertHint, consoleUrlOf, type HintContext } from '../src/alerts/alert-hints.js'
import { loadAlertRules, withEvaluationFloor, type AlertRule } from '../src/alerts/alert-rules.js'
import { QualityWatch } from '../src/alerts/quality-measures.js'
import { NotificationDispatcher } from '../src/alerts/notification-dispatcher.js'
import { createNotifiers } from '../src/alerts/notifiers.js'
import { diskSpace, ResourceSampler, type ResourceSample } from '../src/health/process-resources.js'
import { SampleWindow } from '../src/health/sliding-window.js'
import { packageInfo } from '../src/project.js'
import { isProbe } from '../src/health/probe-routes.js'
import { RequestWatch } from '../src/health/request-watch.js'
import { log } from '../src/logging/log-context.js'

export interface Alerts {
  /** Samples the gauges and evaluates every rule once (the timer calls it; tests may too). */
  evaluate: () => Promise<void>
  states: () => AlertState[]
  readonly rules: AlertRule[]
  readonly notifications: NotificationDispatcher
  /** The latest resource reading and log-volume space, for /status. */
  latest: () => { resources: ResourceSample, disk: Awaited<ReturnType<typeof diskSpace>> }
}

declare module 'fastify' {
  interface FastifyInstance {
    alerts: Alerts
  }
}

export default fp(async function alertsPlugin (app) {
  const config = app.config
  const rules = await loadAlertRules(config.ALERTS_CONFIG, withEvaluationFloor(config.KB_EVALUATION_MIN_ACCURACY))
  // The test questions' runs are rows, made by any instance or the CLI: read at each evaluation.
  const readsEvaluations = rules.some(rule =>
    rule.when.some(condition => condition.measure.startsWith('kb_evaluation_')))
  const intervalMs = config.ALERTS_EVAL_INTERVAL * 1000
  const now = () => app.clock().getTime()
  const horizonMs = Math.max(3_600_000, ...rules.flatMap(rule => rule.when.map(condition => condition.windowMs)))
  const requests = new RequestWatch({ horizonMs, now })
  const cpu = new SampleWindow({ horizonMs, now })
  const turnsInFlight = new SampleWindow({ horizonMs, now })
  const resources = new ResourceSampler()
  let disk: Awaited<ReturnType<typeof diskSpace>>
  let activeSessions: number | undefined
  // The transcript's figures for each window a quality rule reads, refreshed at each evaluation.
  const quality = new QualityWatch(rules)

  app.addHook('onResponse', async (request, reply) => {
    if (isProbe(request.url)) return
    const traceId = reply.getHeader('x-trace-id') as string | undefined
    requests.record(request.routeOptions.url, reply.statusCode, reply.elapsedTime, traceId)
  })
  // Refusals made before Fastify saw them (plugins/refusal-door.ts) have no trace.
  app.refusalDoor.onRefused(({ route, status, durationMs }) => {
    requests.record(route, status, durationMs, undefined)
  })

  const read = measureReader({
    requests,
    database: app.databaseHealth,
    resources: () => resources.current(),
    cpu,
    turnsInFlight,
    intervalMs,
    shed: app.turnAdmission.shed,
    diskFreeRatio: () => disk?.freeRatio,
    activeSessions: () => activeSessions,
    maxActiveSessions: config.MAX_ACTIVE_SESSIONS,
    quality,
    model: () => app.answerWriter,
    evaluationTrend: () => app.kbEvaluations.trend(),
    now
  })

  const notifications = new NotificationDispatcher({ notifiers: createNotifiers(config), logger: app.log as Logger })
  const hints: HintContext = {
    consoleUrl: consoleUrlOf(config),
    traceUrl: config.ALERTS_TRACE_URL,
    evaluationTrend: () => app.kbEvaluations.trend(),
    quality,
    requests
  }
  const notify = (notification: AlertNotification): void => {
    const fields = {
      alert: notification.alert,
      severity: notification.severity,
      status: notification.status,
      repeat: notification.repeat,
      value: notification.value,
      threshold: notification.threshold,
      since: notification.since
    }
    const logger = log('alerts', 'notify', app.log)
    if (notification.status === 'firing') {
      logger.warn(fields, `alert ${notification.alert} firing: ${notification.summary}`)
    } else {
      // The value logged is the last that crossed the threshold: the line says so, as the summary does.
      logger.info(fields, `alert ${notification.alert} ${notification.summary}`)
    }
    notifications.dispatch(notification)
  }
  const instance = `${hostname()}:${config.PORT}`
  const evaluator = new AlertEvaluator({
    rules,
    read,
    notify,
    now: app.clock,
    identity: { service: packageInfo.name, instance },
    hintFor: rule => alertHint(rule, hints)
  })
  // The alerts pending or firing when this instance last stopped; kept again whenever they change.
  const keeping = log('alerts', 'keep', app.log)
  let kept = '[]'
  try {
    const saved = await loadAlertStates(app.db, instance)
    evaluator.restore(saved)
    kept = JSON.stringify(saved)
  } catch (error) {
    keeping.error({ err: error }, 'the alerts\' state before the restart could not be read; every rule starts inactive')
  }
  const keep = async (): Promise<void> => {
    const states = evaluator.saved()
    if (JSON.stringify(states) === kept) return
    try {
      await saveAlertStates(app.db, instance, states)
      kept = JSON.stringify(states)
    } catch (error) {
      keeping.error({ err: error }, 'keeping the alerts\' state failed; will retry at the next evaluation')
    }
  }

  const logVolume = resolve(config.LOG_DIR === '' ? '.' : config.LOG_DIR)
  let running: Promise<void> | undefined
  const evaluateOnce = async (): Promise<void> => {
    const sample = resources.sample()
    cpu.add(sample.cpuCoresUsed)
    turnsInFlight.add(app.turnAdmission.inFlight() / app.turnAdmission.limit)
    disk = await diskSpace(logVolume)
    activeSessions = await app.sessionManager.countActive().catch(() => activeSessions)
    await quality.refresh(app.db, now())
    // A failed read keeps the runs last read: they do not change between runs.
    if (readsEvaluations) await app.kbEvaluations.refreshTrend().catch(() => undefined)
    evaluator.evaluate()
    await keep()
  }
  // One evaluation at a time: a slow one (a database that hangs) is joined, not stacked.
  const evaluate = async (): Promise<void> => {
    running ??= evaluateOnce()
      .catch(error => log('alerts', 'evaluate', app.log)
        .error({ err: error }, 'alert evaluation failed; will retry at the next interval'))
      .finally(() => { running = undefined })
    await running
  }
  const timer = setInterval(evaluate, intervalMs).unref()

  app.decorate('alerts', {
    evaluate,
    states: () => evaluator.states(),
    rules,
    notifications,
    latest: () => ({ resources: resources.current(), disk })
  })

  const meter = app.metricsMeter
  const firing = meter.createObservableGauge('chatbot_alerts_firing', {
    description: '1 for each alert rule firing now, else 0'
  })
  const diskFree = meter.createObservableGauge('chatbot_log_disk_free_ratio', {
    unit: '1',
    description: 'Free share of the log volume, as of the last alert evaluation'
  })
  const observe = (result: BatchObservableResult): void => {
    for (const state of evaluator.states()) {
      result.observe(firing, state.state === 'firing' ? 1 : 0, { alertname: state.alert, severity: state.severity })
    }
    if (disk !== undefined) result.observe(diskFree, disk.freeRatio)
  }
  meter.addBatchObservableCallback(observe, [firing, diskFree])
  app.addHook('onReady', async () => { evaluate().catch(() => {}) }) // never rejects: it logs its own failures
  app.addHook('preClose', async () => {
    clearInterval(timer)
    meter.removeBatchObservableCallback(observe, [firing, diskFree])
    resources.stop()
    await running
    await notifications.close()
  })
}, {
  name: 'alerts',
  dependencies: [
    'config', 'metrics', 'database', 'load-shedding', 'refusal-door', 'session-manager', 'answer-writer', 'evaluation'
  ]
})
