import t from 'tap'
import { alertHint, consoleUrlOf, type HintContext } from '../../../src/alerts/alert-hints.js'
import { resolveRules } from '../../../src/alerts/alert-rules.js'

const rules = Object.fromEntries(resolveRules({ rules: {} }).map(rule => [rule.name, rule]))
const quiet: HintContext = {
  consoleUrl: 'https://bot.example.com/console#',
  traceUrl: '',
  evaluationTrend: () => [],
  quality: { topUnansweredTopic: () => undefined },
  requests: { latestFailure: () => undefined, slowestChat: () => undefined }
}

t.test('the console\'s paths become links where Parley is reached', async t => {
  t.equal(consoleUrlOf({ PUBLIC_URL: 'https://bot.example.com/', HOST: '0.0.0.0', PORT: 3000 }), 'https://bot.example.com/console#')
  t.equal(consoleUrlOf({ PUBLIC_URL: '', HOST: '127.0.0.1', PORT: 3000 }), 'http://127.0.0.1:3000/console#')
  t.equal(alertHint(rules.FeedbackDownSpike!, quiet), 'The answers rated down, in the console: https://bot.example.com/console#/conversations?feedback=down')
})

t.test('with nothing to show, each rule\'s hint alone', async t => {
  for (const name of ['EvaluationAccuracyLow', 'UnansweredTopic', 'HighErrorRate', 'ResponseTimeDegradation']) {
    t.equal(alertHint(rules[name]!, quiet), rules[name]!.hint.replaceAll('/console#', quiet.consoleUrl), name)
  }
})

t.test('the accuracy runs, the topic asked about and an example trace are named', async t => {
  const context: HintContext = {
    ...quiet,
    traceUrl: 'https://jaeger.example.com/trace/',
    evaluationTrend: () => [{ question_set: 'given', accuracy: 0.72, previous: 0.9 }, { question_set: 'saved', accuracy: 0.95 }],
    quality: { topUnansweredTopic: windowMs => windowMs === 3_600_000 ? { docId: 'refunds & returns', title: 'Refunds', turns: 12 } : undefined },
    requests: {
      latestFailure: () => ({ traceId: 'a'.repeat(32), description: 'POST /v1/chat 500', at: 0 }),
      slowestChat: () => ({ traceId: undefined, description: 'POST /v1/chat 4,200 ms', at: 0 })
    }
  }
  t.match(alertHint(rules.EvaluationAccuracyLow!, context),
    /\. Latest run of questions given with a run 72\.0%, the last run of the same questions 90\.0%; of the saved set 95\.0%$/, 'each question set\'s')
  t.match(alertHint(rules.EvaluationAccuracyLow!, { ...context, evaluationTrend: () => [{ question_set: 'saved', accuracy: 0.5 }] }),
    /\. Latest run of the saved set 50\.0%$/, 'a first run alone')
  t.match(alertHint(rules.UnansweredTopic!, context), /\. Topic: "Refunds" \(refunds & returns\), 12 turns: https:\/\/bot\.example\.com\/console#\/conversations\?kind=no_answer&source=refunds%20%26%20returns$/, 'over the rule\'s window, its id made safe for a link')
  t.match(alertHint(rules.HighErrorRate!, context), `. Example: https://jaeger.example.com/trace/${'a'.repeat(32)} (POST /v1/chat 500)`)
  t.match(alertHint(rules.HighErrorRate!, { ...context, traceUrl: '' }), `. Example: trace ${'a'.repeat(32)} (POST /v1/chat 500)`, 'without ALERTS_TRACE_URL, the id')
  t.equal(alertHint(rules.ResponseTimeDegradation!, context), rules.ResponseTimeDegradation!.hint, 'an example without a trace is not named')
  t.equal(alertHint(rules.DatabaseUnavailable!, context), rules.DatabaseUnavailable!.hint, 'the other rules have no example')
})
