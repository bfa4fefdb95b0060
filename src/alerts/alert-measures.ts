// Where each measure an alert rule names is read: the app's own sliding windows of requests,
// resources and turns, the database's health, the transcript's quality figures, the language
// model's calls and the accuracy runs. The alerts plugin gives the sources; this says which answers what.
import type { ReadMeasure } from './alert-evaluator.js'
import type { QualityWatch } from './quality-measures.js'
import type { DatabaseHealth } from '../health/database-health.js'
import type { ResourceSample } from '../health/process-resources.js'
import type { RequestWatch } from '../health/request-watch.js'
import type { MeasureReading, SampleWindow, SlidingHistogram } from '../health/sliding-window.js'
import { largestDrop, lowestAccuracy, type AccuracyTrend } from '../evaluation/kb-evaluations.js'

type ModelMeasure = 'llm_fallback_ratio' | 'llm_call_p95_seconds' | 'llm_budget_used_ratio'

export interface MeasureSources {
  requests: Pick<RequestWatch, 'failureRatio' | 'chatP95'>
  database: Pick<DatabaseHealth, 'current' | 'connectionErrorWindow' | 'statementSeconds'>
  /** The latest reading of the process's resources. */
  resources: () => ResourceSample
  /** CPU cores used and the share of the turn slots busy, sampled at each evaluation (every `intervalMs`). */
  cpu: Pick<SampleWindow, 'latest' | 'average'>
  turnsInFlight: Pick<SampleWindow, 'latest' | 'min'>
  intervalMs: number
  shed: Pick<SlidingHistogram, 'count'>
  /** The log volume's free share, as last read; undefined until read or when it cannot be. */
  diskFreeRatio: () => number | undefined
  activeSessions: () => number | undefined
  maxActiveSessions: number
  quality: Pick<QualityWatch, 'read'>
  /** The language model's calls; undefined without a model, which leaves nothing to judge. */
  model: () => { measure: (name: ModelMeasure, windowMs: number) => MeasureReading } | undefined
  evaluationTrend: () => AccuracyTrend
  now: () => number
}

export function measureReader (sources: MeasureSources): ReadMeasure {
  return (measure, windowMs) => {
    const { database } = sources
    switch (measure) {
      case 'http_5xx_ratio': return sources.requests.failureRatio(windowMs)
      case 'chat_latency_p95_seconds': return sources.requests.chatP95(windowMs)
      case 'db_check_failing_seconds':
        return { value: database.current().up ? 0 : (sources.now() - database.current().since.getTime()) / 1000 }
      case 'db_connection_errors': return { value: database.connectionErrorWindow.count(windowMs) }
      case 'db_statement_p95_seconds':
        return {
          value: database.statementSeconds.quantile(0.95, windowMs),
          samples: database.statementSeconds.count(windowMs)
        }
      case 'memory_rss_ratio': {
        const sample = sources.resources()
        return { value: sample.rssBytes / sample.memoryLimitBytes }
      }
      case 'cpu_cores_used':
        return { value: windowMs === 0 ? sources.cpu.latest() : sources.cpu.average(windowMs, sources.intervalMs) }
      case 'turns_in_flight_ratio':
        return {
          value: windowMs === 0
            ? sources.turnsInFlight.latest()
            : sources.turnsInFlight.min(windowMs, sources.intervalMs)
        }
      case 'shed_requests': return { value: sources.shed.count(windowMs) }
      case 'log_disk_free_ratio': return { value: sources.diskFreeRatio() }
      case 'active_sessions_ratio': {
        const active = sources.activeSessions()
        return { value: active === undefined ? undefined : active / sources.maxActiveSessions }
      }
      case 'answer_rate':
      case 'feedback_down':
      case 'unanswered_topic_turns': return sources.quality.read(measure, windowMs)
      case 'llm_fallback_ratio':
      case 'llm_call_p95_seconds':
      case 'llm_budget_used_ratio': return sources.model()?.measure(measure, windowMs) ?? { value: undefined }
      // No run yet, or no second run of the same questions: nothing to judge.
      case 'kb_evaluation_accuracy': return { value: lowestAccuracy(sources.evaluationTrend()) }
      case 'kb_evaluation_accuracy_drop': return { value: largestDrop(sources.evaluationTrend()) }
    }
  }
}
