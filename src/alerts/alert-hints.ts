// What an alert's notification tells the person who gets it, beyond its rule's fixed hint: where
// to look, made a link where Parley is reached (PUBLIC_URL), and an example of what fired it (a
// trace, the topic users asked about, the accuracy runs).
import type { AlertRule } from './alert-rules.js'
import type { QualityWatch } from './quality-measures.js'
import type { RequestWatch } from '../health/request-watch.js'
import type { AccuracyTrend } from '../evaluation/kb-evaluations.js'

export interface HintContext {
  /** The console's address, ending in `/console#`. */
  consoleUrl: string
  /** ALERTS_TRACE_URL: a trace id appended makes a link; '' names the trace alone. */
  traceUrl: string
  evaluationTrend: () => AccuracyTrend
  quality: Pick<QualityWatch, 'topUnansweredTopic'>
  requests: Pick<RequestWatch, 'latestFailure' | 'slowestChat'>
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(1)}%`
const QUESTION_SETS = { saved: 'the saved set', given: 'questions given with a run' } as const

export function alertHint (rule: AlertRule, context: HintContext): string {
  const hint = rule.hint.replaceAll('/console#', context.consoleUrl)
  if (rule.name === 'EvaluationAccuracyLow') {
    const runs = context.evaluationTrend().map(({ question_set: questionSet, accuracy, previous }) => {
      const before = previous === undefined ? '' : `, the last run of the same questions ${percent(previous)}`
      return `${QUESTION_SETS[questionSet]} ${percent(accuracy)}${before}`
    })
    return runs.length === 0 ? hint : `${hint}. Latest run of ${runs.join('; of ')}`
  }
  if (rule.name === 'UnansweredTopic') {
    const topic = context.quality.topUnansweredTopic(rule.when[0]?.windowMs ?? 0)
    if (topic === undefined) return hint
    const link = `${context.consoleUrl}/conversations?kind=no_answer&source=${encodeURIComponent(topic.docId)}`
    return `${hint}. Topic: "${topic.title}" (${topic.docId}), ${topic.turns} turns: ${link}`
  }
  const example = rule.name === 'HighErrorRate'
    ? context.requests.latestFailure()
    : rule.name === 'ResponseTimeDegradation' ? context.requests.slowestChat() : undefined
  if (example?.traceId === undefined) return hint
  const trace = context.traceUrl === '' ? `trace ${example.traceId}` : `${context.traceUrl}${example.traceId}`
  return `${hint}. Example: ${trace} (${example.description})`
}

/** Where the console is reached: PUBLIC_URL, or the address the server listens on. */
export function consoleUrlOf (config: { PUBLIC_URL: string, HOST: string, PORT: number }): string {
  const base = config.PUBLIC_URL === '' ? `http://${config.HOST}:${config.PORT}` : config.PUBLIC_URL
  return `${base.replace(/\/$/, '')}/console#`
}
