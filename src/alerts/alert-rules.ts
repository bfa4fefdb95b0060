// The alert rules: what each measures, the built-in defaults (docs/running.md's alert table), and the
// operator's YAML file (ALERTS_CONFIG) that tunes, disables or adds rules by name.
import { readFile } from 'node:fs/promises'
import Type, { type Static } from 'typebox'
import { Value } from 'typebox/value'
import { parse } from 'yaml'
import { SEVERITIES } from './alert-notification.js'

/** What each measure means, for the rule file's readers and for the notification's summary. */
export const MEASURES = {
  http_5xx_ratio: { unit: 'ratio', description: '5xx share of requests', samples: 'requests' },
  chat_latency_p95_seconds: { unit: 'seconds', description: 'chat p95 latency', samples: 'chat turns' },
  db_check_failing_seconds: {
    unit: 'seconds',
    description: 'time the database health check has been failing',
    samples: undefined
  },
  db_connection_errors: {
    unit: 'count',
    description: 'statements failed for want of a database connection',
    samples: undefined
  },
  db_statement_p95_seconds: { unit: 'seconds', description: 'database statement p95 latency', samples: 'statements' },
  memory_rss_ratio: { unit: 'ratio', description: 'resident memory against the memory limit', samples: undefined },
  cpu_cores_used: { unit: 'cores', description: 'process CPU in cores', samples: undefined },
  turns_in_flight_ratio: {
    unit: 'ratio',
    description: 'chat turns in flight against MAX_TURNS_IN_FLIGHT, the whole window',
    samples: undefined
  },
  shed_requests: { unit: 'count', description: 'requests refused by load shedding', samples: undefined },
  log_disk_free_ratio: { unit: 'ratio', description: 'free space on the log volume', samples: undefined },
  active_sessions_ratio: {
    unit: 'ratio',
    description: 'active sessions against MAX_ACTIVE_SESSIONS',
    samples: undefined
  },
  answer_rate: { unit: 'ratio', description: 'questions answered from the knowledge base', samples: 'questions' },
  feedback_down: { unit: 'count', description: 'answers rated down with /feedback', samples: undefined },
  unanswered_topic_turns: { unit: 'count', description: 'no_answer turns nearest to one document', samples: undefined },
  llm_fallback_ratio: {
    unit: 'ratio',
    description: 'share of the language model\'s calls that fell back to the passage',
    samples: 'model calls'
  },
  llm_call_p95_seconds: {
    unit: 'seconds',
    description: 'p95 duration of the language model\'s calls',
    samples: 'model calls'
  },
  llm_budget_used_ratio: {
    unit: 'ratio',
    description: 'the language model\'s spend today (UTC) against LLM_DAILY_BUDGET_USD',
    samples: undefined
  },
  kb_evaluation_accuracy: {
    unit: 'ratio',
    description: 'accuracy of the test questions\' latest run (the saved set\'s or a file\'s, the less accurate)',
    samples: undefined
  },
  kb_evaluation_accuracy_drop: {
    unit: 'ratio',
    description: 'accuracy lost by the latest run of the test questions against the last run of the same questions',
    samples: undefined
  }
} as const

/** The measures read from the transcript (every instance's turns) rather than from this process. */
export const QUALITY_MEASURES: ReadonlySet<MeasureName> =
  new Set(['answer_rate', 'feedback_down', 'unanswered_topic_turns'])
export type MeasureName = keyof typeof MEASURES

const Duration = Type.String({ pattern: '^\\d+(ms|s|m|h|d)$', description: 'e.g. 30s, 5m, 4h' })

const ConditionSchema = Type.Object({
  measure: Type.Enum(Object.keys(MEASURES) as MeasureName[]),
  above: Type.Optional(Type.Number()),
  below: Type.Optional(Type.Number()),
  window: Type.Optional(Duration),
  /** Fewer events than this in the window and the condition does not hold (too little to judge). */
  min_samples: Type.Optional(Type.Integer({ minimum: 0 }))
}, { additionalProperties: false })

const RuleFields = {
  severity: Type.Enum(SEVERITIES),
  /** Any one condition holding makes the rule hold. */
  when: Type.Array(ConditionSchema, { minItems: 1 }),
  for: Type.Optional(Duration),
  repeat: Type.Optional(Duration),
  hint: Type.Optional(Type.String()),
  enabled: Type.Optional(Type.Boolean())
}
const RuleSchema = Type.Object(RuleFields, { additionalProperties: false })
export const RulesFileSchema = Type.Object({
  rules: Type.Record(
    Type.String({ pattern: '^[A-Za-z][\\w]*$' }),
    Type.Partial(Type.Object(RuleFields, { additionalProperties: false }))
  )
}, { additionalProperties: false })

export type RuleDefinition = Static<typeof RuleSchema>
export type Condition = Static<typeof ConditionSchema>

export interface AlertRule {
  name: string
  severity: RuleDefinition['severity']
  when: Array<Condition & { windowMs: number }>
  forMs: number
  repeatMs: number
  hint: string
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
export const durationMs = (text: string): number => {
  const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(text)!
  return Number(amount) * UNIT_MS[unit!]!
}

// A request refused with 503 and Retry-After (load shed, the database down, a shutdown) was
// answered on purpose and has alerts of its own (QueueBacklog, DatabaseUnavailable): HighErrorRate
// judges failures. And a handful of refusals, as a restart under load gives, pages no one.
const LOGS = 'logs/error.log, or in Loki: {service_name="parley"} | severity_text=~"(?i)error|fatal"'
export const DEFAULT_RULES: Record<string, RuleDefinition> = {
  HighErrorRate: {
    severity: 'critical',
    when: [{ measure: 'http_5xx_ratio', above: 0.05, window: '5m', min_samples: 20 }],
    hint: `Errors by fingerprint in ${LOGS}`
  },
  ResponseTimeDegradation: {
    severity: 'critical',
    when: [{ measure: 'chat_latency_p95_seconds', above: 2, window: '5m', min_samples: 5 }],
    hint: 'Slow turns in Jaeger (service parley, operation POST /v1/chat, min duration 2s) and "slow statement" ' +
      'lines in logs/chatbot.log'
  },
  DatabaseUnavailable: {
    severity: 'critical',
    when: [
      { measure: 'db_check_failing_seconds', above: 30 },
      { measure: 'db_connection_errors', above: 0, window: '5m' }
    ],
    hint: `Is PostgreSQL up and reachable at DATABASE_URL? Database errors: ${LOGS} | module="database"`
  },
  SlowQueries: {
    severity: 'warning',
    when: [{ measure: 'db_statement_p95_seconds', above: 0.5, window: '5m', min_samples: 5 }],
    hint: '"slow statement" lines (module=database) in logs/chatbot.log name the statement; its spans are in Jaeger'
  },
  MemoryExhaustion: {
    severity: 'critical',
    when: [{ measure: 'memory_rss_ratio', above: 0.85 }],
    hint: 'Memory over time: the Grafana dashboard "Chatbot overview"; GET /status shows heap against RSS'
  },
  HighCpu: {
    severity: 'warning',
    when: [{ measure: 'cpu_cores_used', above: 0.8, window: '5m' }],
    hint: 'Event-loop delay and utilization in GET /status; add instances behind a load balancer if traffic grew'
  },
  QueueBacklog: {
    severity: 'warning',
    when: [
      { measure: 'turns_in_flight_ratio', above: 0.8, window: '1m' },
      { measure: 'shed_requests', above: 20, window: '5m' }
    ],
    hint: 'chatbot_shed_requests_total{reason} in /metrics says why requests were refused; ' +
      '503 lines in logs/chatbot.log'
  },
  LowDiskSpace: {
    severity: 'warning',
    when: [{ measure: 'log_disk_free_ratio', below: 0.1 }],
    hint: 'Free space on the log volume: shorten LOG_RETENTION_*_DAYS or LOG_COMPRESS_AFTER_DAYS, or grow the volume'
  },
  SessionLimit: {
    severity: 'warning',
    when: [{ measure: 'active_sessions_ratio', above: 0.8 }],
    hint: 'At MAX_ACTIVE_SESSIONS new sessions replace ones idle for a minute, then are refused; who fills it: ' +
      'the request lines with problem limit-exceeded (new_sessions_per_client names an address that opens too many), ' +
      'or sessions by user_id in the database; raise MAX_ACTIVE_SESSIONS or shorten SESSION_IDLE_TIMEOUT'
  },
  AnswerRateLow: {
    severity: 'warning',
    when: [{ measure: 'answer_rate', below: 0.5, window: '30m', min_samples: 20 }],
    hint: 'The questions it could not answer, in the console: /console#/conversations?kind=no_answer; ' +
      'add documents for what they ask (npm run analyze -- usage lists the top unanswered questions)'
  },
  FeedbackDownSpike: {
    severity: 'warning',
    when: [{ measure: 'feedback_down', above: 5, window: '15m' }],
    hint: 'The answers rated down, in the console: /console#/conversations?feedback=down'
  },
  UnansweredTopic: {
    severity: 'warning',
    when: [{ measure: 'unanswered_topic_turns', above: 10, window: '1h' }],
    hint: 'Questions near one document go unanswered: it may be missing what they ask; in the console: ' +
      '/console#/conversations?kind=no_answer'
  },
  LLMDegraded: {
    severity: 'warning',
    when: [
      { measure: 'llm_fallback_ratio', above: 0.2, window: '10m', min_samples: 10 },
      { measure: 'llm_call_p95_seconds', above: 10, window: '10m', min_samples: 10 }
    ],
    hint: 'Why answers fell back to the passage: chatbot_llm_fallbacks_total{reason} in /metrics and the ' +
      'llm.fallback lines (module=llm) in logs/chatbot.log; the model\'s calls are the "chat <model>" spans in ' +
      'Jaeger and in the console\'s waterfalls'
  },
  LLMBudgetNearlySpent: {
    severity: 'warning',
    when: [{ measure: 'llm_budget_used_ratio', above: 0.8 }],
    hint: 'At LLM_DAILY_BUDGET_USD the model is not asked again until midnight UTC (answers are the passages, ' +
      'generation.fallback_reason budget_exhausted). What it costs: GET /v1/analytics/usage (language_model), ' +
      'the cost on each turn in the console; raise the budget, or lower LLM_MAX_OUTPUT_TOKENS'
  },
  // The floor is KB_EVALUATION_MIN_ACCURACY's (withEvaluationFloor); 0.8 is its default.
  EvaluationAccuracyLow: {
    severity: 'warning',
    when: [
      { measure: 'kb_evaluation_accuracy', below: 0.8 },
      { measure: 'kb_evaluation_accuracy_drop', above: 0.05 }
    ],
    hint: 'The latest run of the test questions, question by question, in the console: /console#/accuracy; ' +
      'the wrong documents and refused answerable questions name what to fix (a document changed or removed, ' +
      'a new one competing); runs: GET /v1/kb/evaluations'
  }
}

export class AlertRulesError extends Error { override name = 'AlertRulesError' }

/** The defaults with EvaluationAccuracyLow's floor set to KB_EVALUATION_MIN_ACCURACY. */
export function withEvaluationFloor (
  floor: number,
  defaults: Record<string, RuleDefinition> = DEFAULT_RULES
): Record<string, RuleDefinition> {
  const rule = defaults.EvaluationAccuracyLow!
  return {
    ...defaults,
    EvaluationAccuracyLow: {
      ...rule,
      when: rule.when.map(condition =>
        condition.measure === 'kb_evaluation_accuracy' ? { ...condition, below: floor } : condition)
    }
  }
}

/** The rules in force: the defaults, with the file's rules merged over them by name. */
export function resolveRules (
  file: unknown,
  source = 'ALERTS_CONFIG',
  defaults: Record<string, RuleDefinition> = DEFAULT_RULES
): AlertRule[] {
  if (!Value.Check(RulesFileSchema, file)) {
    const problems = [...Value.Errors(RulesFileSchema, file)].slice(0, 5)
      .map(error => `${error.instancePath || '/'} ${error.message}`)
    throw new AlertRulesError(`${source}: ${problems.join('; ')}`)
  }
  const merged: Record<string, Partial<RuleDefinition>> = { ...defaults }
  for (const [name, overrides] of Object.entries(file.rules)) merged[name] = { ...merged[name], ...overrides }
  const rules: AlertRule[] = []
  for (const [name, definition] of Object.entries(merged)) {
    if (definition.enabled === false) continue
    if (!Value.Check(RuleSchema, definition)) {
      throw new AlertRulesError(
        `${source}: rule ${name} needs severity and when (a new rule has no defaults to fall back on)`
      )
    }
    for (const condition of definition.when) {
      if ((condition.above === undefined) === (condition.below === undefined)) {
        throw new AlertRulesError(
          `${source}: rule ${name}, measure ${condition.measure}: give exactly one of above or below`
        )
      }
    }
    rules.push({
      name,
      severity: definition.severity,
      when: definition.when.map(condition => ({ ...condition, windowMs: durationMs(condition.window ?? '0s') })),
      forMs: durationMs(definition.for ?? '0s'),
      repeatMs: durationMs(definition.repeat ?? '4h'),
      hint: definition.hint ?? ''
    })
  }
  return rules
}

/** Reads ALERTS_CONFIG (YAML); the defaults alone when path is empty. */
export async function loadAlertRules (
  path: string,
  defaults: Record<string, RuleDefinition> = DEFAULT_RULES
): Promise<AlertRule[]> {
  if (path === '') return resolveRules({ rules: {} }, 'ALERTS_CONFIG', defaults)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new AlertRulesError(`ALERTS_CONFIG: cannot read ${path}: ${(error as Error).message}`)
  }
  let document: unknown
  try {
    document = parse(text)
  } catch (error) {
    throw new AlertRulesError(`ALERTS_CONFIG ${path}: not valid YAML: ${(error as Error).message}`)
  }
  return resolveRules(document ?? { rules: {} }, `ALERTS_CONFIG ${path}`, defaults)
}
