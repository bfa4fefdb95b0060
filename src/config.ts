// Every setting comes from the environment and is validated once at start, so a typo in a
// deployment stops the process with a message naming the variable instead of misbehaving later.
import { createHash } from 'node:crypto'
import { maskUrl } from './logging/mask-credentials.js'
import { UNSERVED_PER_SECOND } from './telemetry/unserved-sampler.js'
import { join } from 'node:path'
import envSchema from 'env-schema'
import Type, { type Static } from 'typebox'
import { projectRoot } from './project.js'

export const ROLES = ['admin', 'analyst'] as const
export type Role = typeof ROLES[number]

const seconds = (defaultValue: number, minimum = 1) =>
  Type.Integer({ minimum, maximum: 31_536_000, default: defaultValue })
// 0 leaves the retention profile's value in force.
const days = () => Type.Integer({ minimum: 0, maximum: 36_500, default: 0 })

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Enum(['development', 'production', 'test'], { default: 'development' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  LOG_LEVEL: Type.Enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { default: 'info' }),
  // Log lines and spans of a route's unserved requests (4xx, 503) a second; 0: all of them.
  UNSERVED_PER_SECOND: Type.Integer({ minimum: 0, maximum: 100_000, default: UNSERVED_PER_SECOND }),
  // Empty: stdout only (a container whose platform collects stdout).
  LOG_DIR: Type.String({ default: './logs' }),
  LOG_FILE_MAX_SIZE: Type.String({ pattern: '^[1-9]\\d*[kmg]?$', default: '100m' }),
  LOG_ROTATE_FREQUENCY: Type.Enum(['daily', 'hourly'], { default: 'daily' }),
  // Empty: production's retention when NODE_ENV=production, else development's.
  LOG_RETENTION_PROFILE: Type.Enum(['', 'production', 'development'], { default: '' }),
  LOG_RETENTION_DEBUG_DAYS: days(),
  LOG_RETENTION_INFO_DAYS: days(),
  LOG_RETENTION_WARN_DAYS: days(),
  LOG_RETENTION_ERROR_DAYS: days(),
  LOG_RETENTION_AUDIT_DAYS: days(),
  LOG_COMPRESS_AFTER_DAYS: Type.Integer({ minimum: 1, maximum: 36_500, default: 7 }),
  LOG_JANITOR_INTERVAL: seconds(86_400, 60),
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  DATABASE_URL: Type.String({ pattern: '^$|^(postgres|postgresql)://', default: '' }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 500, default: 10 }),
  API_KEYS: Type.String({
    pattern: '^$|^[^:,\\s]{16,}:(admin|analyst)(,[^:,\\s]{16,}:(admin|analyst))*$',
    default: ''
  }),
  CHAT_REQUIRE_KEY: Type.Boolean({ default: false }),
  // How long a console sign-in lasts (hours); the key's removal from API_KEYS ends it sooner.
  CONSOLE_SESSION_HOURS: Type.Integer({ minimum: 1, maximum: 720, default: 8 }),
  // The console links a turn's log lines to Grafana's Explore at this address (the stack's: http://localhost:3001).
  CONSOLE_GRAFANA_URL: Type.String({ pattern: '^$|^https?://', default: '' }),
  // Where people reach Parley, for links in alerts to the console (empty: http://HOST:PORT).
  PUBLIC_URL: Type.String({ pattern: '^$|^https?://', default: '' }),
  PAGES_NAME: Type.String({ minLength: 1, maxLength: 60, pattern: '\\S', default: 'Parley' }),
  // Sites whose pages may frame the chat page (the widget): origins, space-separated; Parley's own always may.
  CHAT_WIDGET_ORIGINS: Type.String({
    pattern: '^$|^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?( +https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)*$',
    default: ''
  }),
  SESSION_IDLE_TIMEOUT: seconds(1800),
  SESSION_MAX_AGE: seconds(86_400),
  SESSION_SWEEP_INTERVAL: seconds(60),
  MAX_ACTIVE_SESSIONS: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 10_000 }),
  MAX_SESSIONS_PER_USER: Type.Integer({ minimum: 1, maximum: 100_000, default: 5 }),
  // What one client may do to the chat route a minute without an API key (plugins/chat-limits.ts); 0 is off.
  NEW_SESSIONS_PER_MINUTE: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 60 }),
  TURNS_PER_SESSION_PER_MINUTE: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 60 }),
  TURNS_PER_CLIENT_PER_MINUTE: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 600 }),
  WRONG_KEYS_PER_MINUTE: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10 }),
  // The proxies whose X-Forwarded-For names the client: addresses or CIDRs, comma-separated; empty: none.
  TRUST_PROXY: Type.String({ pattern: '^$|^[0-9a-fA-F.:/]+(,\\s*[0-9a-fA-F.:/]+)*$', default: '' }),
  // Empty: off when NODE_ENV=production, else redacted (see chatContentMode).
  LOG_CHAT_CONTENT: Type.Enum(['', 'off', 'redacted', 'full'], { default: '' }),
  LOG_USER_ID: Type.Enum(['hashed', 'plain'], { default: 'hashed' }),
  LOG_ID_SECRET: Type.String({ default: '' }),
  DB_SLOW_QUERY_MS: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 200 }),
  // Statements at least this long are spans of their turn's trace (0: every statement); each
  // turn's span carries the time of all its statements (parley.database_ms).
  DB_QUERY_SPAN_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 50 }),
  // Whether the meaning of words counts in the search as well as the words ("suitcases" finds
  // "luggage"), with the word vectors in src/search/word-vectors/; false: words only.
  SEARCH_WORD_VECTORS: Type.Boolean({ default: true }),
  // Whether a misspelt word of a question ("pasword") is read as the word one edit away that the
  // knowledge base holds, an American or British spelling ("color") as the knowledge base spells it,
  // and a compound as it writes it (src/search/spelling.ts, compounds.ts); false: as typed.
  SEARCH_SPELLING: Type.Boolean({ default: true }),
  // The answer decision's probability a question needs for an answer rather than no_answer
  // (src/search/answer-decision.ts).
  ANSWER_MIN_CONFIDENCE: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
  // The EvaluationAccuracyLow alert fires when the latest test-question run's accuracy is below this
  // (or more than 5 points below the last run of the same questions); see src/evaluation.
  KB_EVALUATION_MIN_ACCURACY: Type.Number({ minimum: 0, maximum: 1, default: 0.8 }),
  // A language model writes answers from the passages found (src/llm): any OpenAI-compatible
  // endpoint (https://api.openai.com/v1, Ollama's http://localhost:11434/v1...). Empty: off, the
  // passage itself is the answer.
  LLM_BASE_URL: Type.String({ pattern: '^$|^https?://', default: '' }),
  LLM_MODEL: Type.String({ default: '' }),
  LLM_API_KEY: Type.String({ default: '' }),
  // gen_ai.provider.name on spans and metrics (openai, ollama, vllm...).
  LLM_PROVIDER: Type.String({ pattern: '^[a-z0-9_.]+$', default: 'openai' }),
  LLM_FIRST_TOKEN_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 5000 }),
  LLM_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 20_000 }),
  // Retries of a 429 or 5xx (with backoff, honouring Retry-After), within LLM_TIMEOUT_MS.
  LLM_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
  LLM_MAX_OUTPUT_TOKENS: Type.Integer({ minimum: 16, maximum: 32_768, default: 500 }),
  // The circuit breaker: it opens when this share of the last minute's calls failed (5 calls at
  // least), and lets one call through again after LLM_BREAKER_RESET_SECONDS.
  LLM_BREAKER_ERROR_PERCENT: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  LLM_BREAKER_RESET_SECONDS: seconds(30),
  // US dollars per million tokens, for the cost of each turn.
  LLM_PRICE_INPUT_PER_MTOK: Type.Number({ minimum: 0, maximum: 10_000, default: 0 }),
  LLM_PRICE_OUTPUT_PER_MTOK: Type.Number({ minimum: 0, maximum: 10_000, default: 0 }),
  // US dollars a UTC day may spend on the model; at it, answers are the passages until midnight. 0: no budget.
  LLM_DAILY_BUDGET_USD: Type.Number({ minimum: 0, maximum: 1_000_000, default: 0 }),
  // Opt-in: the prompt and the answer on the model call's span, scrubbed. Off: neither.
  LLM_CAPTURE_CONTENT: Type.Boolean({ default: false }),
  // Whether the bundled docs answer chat questions: 'auto' only while no other collection has documents.
  KB_BUNDLED_DOCS: Type.Enum(['auto', 'always', 'never'], { default: 'auto' }),
  KB_SEED_DIR: Type.String({ default: join(projectRoot, 'docs') }),
  SHUTDOWN_TIMEOUT: seconds(10),
  // A request's headers and body must arrive within this (a slow client holds a socket no longer).
  REQUEST_TIMEOUT: seconds(30),
  // Connections open at once; past it new ones are closed at once. 0: no cap.
  MAX_CONNECTIONS: Type.Integer({ minimum: 0, maximum: 10_000_000, default: 10_000 }),
  // Sockets listening on PORT (SO_REUSEPORT), each accepting a connection a turn of the event loop;
  // 0: 8 on Linux, 1 elsewhere (src/http/listen-sockets.ts).
  LISTEN_SOCKETS: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
  // A turn predicted to take longer than this, waiting included, is refused at once (plugins/load-shedding.ts).
  TURN_LATENCY_GOAL_MS: Type.Integer({ minimum: 10, maximum: 600_000, default: 1000 }),
  // Turns answered at the same time, the rest waiting in line; 0: 1 on PGlite, 32 on PostgreSQL
  // (plugins/load-shedding.ts).
  MAX_TURNS_IN_FLIGHT: Type.Integer({ minimum: 0, maximum: 100_000, default: 0 }),
  // Load shedding of the process (@fastify/under-pressure): 0 turns a limit off.
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
  MAX_EVENT_LOOP_UTILIZATION: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  MAX_HEAP_USED_BYTES: Type.Integer({ minimum: 0, default: 0 }),
  MAX_RSS_BYTES: Type.Integer({ minimum: 0, default: 0 }),
  SHED_RETRY_AFTER: seconds(5),
  // Alerting: rules (YAML) override or extend the built-in ones; notifiers are on when configured.
  ALERTS_CONFIG: Type.String({ default: '' }),
  ALERTS_EVAL_INTERVAL: seconds(15),
  ALERTS_SLACK_WEBHOOK_URL: Type.String({ pattern: '^$|^https?://', default: '' }),
  ALERTS_WEBHOOK_URL: Type.String({ pattern: '^$|^https?://', default: '' }),
  ALERTS_EMAIL_TO: Type.String({ default: '' }),
  ALERTS_EMAIL_FROM: Type.String({ default: 'parley@localhost' }),
  // Notifications and the console link a trace as this prefix + trace id (Jaeger: http://host:16686/trace/).
  ALERTS_TRACE_URL: Type.String({ pattern: '^$|^https?://', default: '' }),
  SMTP_HOST: Type.String({ default: '' }),
  SMTP_PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
  // true: TLS from the start (port 465); false: STARTTLS when the server offers it.
  SMTP_SECURE: Type.Boolean({ default: false }),
  SMTP_USER: Type.String({ default: '' }),
  SMTP_PASSWORD: Type.String({ default: '' }),
  SMTP_TLS_REJECT_UNAUTHORIZED: Type.Boolean({ default: true }),
  // The weekly report from the log files: a cron pattern in local time (empty: never), where, to whom.
  REPORT_SCHEDULE: Type.String({ default: '0 8 * * 1' }),
  REPORTS_DIR: Type.String({ minLength: 1, default: './reports' }),
  REPORT_RECIPIENTS: Type.String({ default: '' }),
  // Conversations (sessions with their messages, feedback and turn traces) whose last turn is older
  // than this many days are deleted, hourly; 0 keeps them until deleted or erased (see docs/storage.md).
  CONVERSATION_RETENTION_DAYS: Type.Integer({ minimum: 0, maximum: 36_500, default: 0 }),
  // Each chat turn's spans and log lines, for the console: kept this many days (0: not recorded at all).
  TURN_TRACE_RETENTION_DAYS: Type.Integer({ minimum: 0, maximum: 36_500, default: 7 }),
  // Turn traces waiting to be written at most; past it they are dropped and counted.
  TURN_TRACE_MAX_QUEUE: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 2000 })
})

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error { override name = 'ConfigError' }

/** An error of envSchema's validation, as far as the message reads it. */
interface SchemaError {
  instancePath: string
  message?: string
  params?: { missingProperty?: string, allowedValues?: string[] }
}

/** Reads and validates the configuration; throws ConfigError naming the bad variable. */
export function loadConfig (env: Record<string, string | undefined> = process.env): Config {
  let config: Config
  try {
    config = envSchema<Config>({ schema: ConfigSchema, data: env, env: false })
  } catch (error) {
    const details = (error as { errors?: SchemaError[] }).errors
    const message = details?.map(d => {
      const name = d.instancePath.replace(/^\//, '') || d.params?.missingProperty
      const allowed = d.params?.allowedValues === undefined ? '' : `: ${d.params.allowedValues.join(', ')}`
      return `${name} ${d.message ?? 'is invalid'}${allowed}`
    }).join('; ') ?? (error as Error).message
    const keysHint = message.includes('API_KEYS')
      ? ' (expected "key:role,key:role" with keys of at least 16 characters and roles admin or analyst)'
      : ''
    throw new ConfigError(`Invalid configuration: ${message}${keysHint}`)
  }
  if (config.LLM_BASE_URL !== '' && config.LLM_MODEL === '') {
    throw new ConfigError('Invalid configuration: LLM_BASE_URL is set, so LLM_MODEL must name the model to call')
  }
  if (config.CHAT_REQUIRE_KEY && config.API_KEYS === '') {
    throw new ConfigError(
      'Invalid configuration: CHAT_REQUIRE_KEY=true needs at least one key in API_KEYS, or no one could chat'
    )
  }
  return config
}

/**
 * How much of users' chat text the logs keep. In production, none by default: the scrubber
 * removes what has a shape (e-mails, phones, cards, ids, keys), but a name or a street address
 * has none, so the text lives only in the transcript, in the database, behind keys.
 */
export function chatContentMode (config: Pick<Config, 'LOG_CHAT_CONTENT' | 'NODE_ENV'>): 'off' | 'redacted' | 'full' {
  if (config.LOG_CHAT_CONTENT !== '') return config.LOG_CHAT_CONTENT
  return config.NODE_ENV === 'production' ? 'off' : 'redacted'
}

export interface ApiKey { key: string, role: Role }

/** How a key is named in logs and the audit trail: a hash prefix, never the key. */
export const keyId = (key: string): string => `key_${createHash('sha256').update(key).digest('hex').slice(0, 12)}`

/** The configuration as it may be logged: keys by id, passwords and secrets masked. */
export function describeConfig (config: Config): Record<string, unknown> {
  return {
    ...config,
    API_KEYS: parseApiKeys(config.API_KEYS).map(({ key, role }) => `${keyId(key)}:${role}`),
    DATABASE_URL: maskUrl(config.DATABASE_URL),
    LOG_ID_SECRET: config.LOG_ID_SECRET === '' ? '(unset)' : '(set)',
    SMTP_PASSWORD: config.SMTP_PASSWORD === '' ? '(unset)' : '(set)',
    LLM_API_KEY: config.LLM_API_KEY === '' ? '(unset)' : '(set)',
    LLM_BASE_URL: maskUrl(config.LLM_BASE_URL),
    ALERTS_SLACK_WEBHOOK_URL: maskUrl(config.ALERTS_SLACK_WEBHOOK_URL, { maskPath: true }),
    ALERTS_WEBHOOK_URL: maskUrl(config.ALERTS_WEBHOOK_URL, { maskPath: true }),
    ALERTS_TRACE_URL: maskUrl(config.ALERTS_TRACE_URL),
    CONSOLE_GRAFANA_URL: maskUrl(config.CONSOLE_GRAFANA_URL),
    PUBLIC_URL: maskUrl(config.PUBLIC_URL)
  }
}

export function parseApiKeys (value: string): ApiKey[] {
  if (value === '') return []
  return value.split(',').map(entry => {
    const [key, role] = entry.split(':') as [string, Role]
    return { key, role }
  })
}
