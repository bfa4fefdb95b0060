// A user's rating of an answer the model wrote (/feedback, or the thumbs on the chat page), as the
// GenAI conventions' gen_ai.evaluation.result event on that answer's trace, so that quality reads
// beside cost and latency. The conventions parent the event to the operation evaluated: the model
// call's span ended with its turn, so the event goes on a short span under it, which Jaeger shows
// in the answer's own trace.
import { context, SpanKind, trace, TraceFlags } from '@opentelemetry/api'
import { packageInfo } from '../project.js'
import { GEN_AI_EVALUATION_RESULT, GenAi } from '../telemetry/gen-ai-conventions.js'

const tracer = trace.getTracer(packageInfo.name, packageInfo.version)

/** The evaluation's name: what users rate, as opposed to a judge model's scores. */
export const USER_RATING = 'user_rating'

export function recordUserRating (
  rated: { traceId: string, spanId: string, responseId?: string, model: string },
  rating: 'up' | 'down'
): void {
  const answer = trace.setSpanContext(context.active(), {
    traceId: rated.traceId,
    spanId: rated.spanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true
  })
  // The rating's own request is linked, so each trace leads to the other.
  const current = trace.getActiveSpan()?.spanContext()
  const span = tracer.startSpan(`evaluation ${USER_RATING}`, {
    kind: SpanKind.INTERNAL,
    attributes: { [GenAi.requestModel]: rated.model },
    links: current === undefined ? [] : [{ context: current }]
  }, answer)
  span.addEvent(GEN_AI_EVALUATION_RESULT, {
    [GenAi.evaluationName]: USER_RATING,
    [GenAi.evaluationScoreLabel]: rating,
    [GenAi.evaluationScoreValue]: rating === 'up' ? 1 : 0,
    ...(rated.responseId === undefined ? {} : { [GenAi.responseId]: rated.responseId })
  })
  span.end()
}
