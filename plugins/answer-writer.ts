// The language model that writes answers, when LLM_BASE_URL names one; without it the chat turn
// answers with the passage, as before. Its client and circuit breaker live as long as the app.
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { ObservableResult } from '@opentelemetry/api'
import type { AnswerWriter } from '../src/llm/answer-writer.js'
import { DailySpend } from '../src/llm/daily-spend.js'
import { log } from '../src/logging/log-context.js'
import { scrub } from '../src/logging/scrubber.js'

declare module 'fastify' {
  interface FastifyInstance {
    answerWriter: AnswerWriter | undefined
  }
}

export default fp(async function answerWriterPlugin (app) {
  const { config } = app
  if (config.LLM_BASE_URL === '') {
    app.decorate('answerWriter', undefined)
    return
  }
  // The client is loaded only when a model is configured: it is a tenth of a second of every start.
  const [{ default: OpenAI }, { AnswerWriter }] = await Promise.all([
    import('openai'),
    import('../src/llm/answer-writer.js')
  ])
  const spend = config.LLM_DAILY_BUDGET_USD > 0
    ? new DailySpend({ limitUsd: config.LLM_DAILY_BUDGET_USD, db: app.db, now: app.clock })
    : undefined
  const writer = new AnswerWriter({
    // The client's own timeout bounds each attempt; LLM_TIMEOUT_MS bounds them all together. Its
    // own logging is off: it prints a chunk it cannot parse, the model's text unscrubbed, to stderr;
    // the llm.fallback line says what happened instead.
    client: new OpenAI({
      baseURL: config.LLM_BASE_URL,
      apiKey: config.LLM_API_KEY === '' ? 'none' : config.LLM_API_KEY,
      maxRetries: config.LLM_MAX_RETRIES,
      timeout: config.LLM_TIMEOUT_MS,
      logLevel: 'off'
    }),
    model: config.LLM_MODEL,
    provider: config.LLM_PROVIDER,
    firstTokenTimeoutMs: config.LLM_FIRST_TOKEN_TIMEOUT_MS,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxOutputTokens: config.LLM_MAX_OUTPUT_TOKENS,
    prices: { input: config.LLM_PRICE_INPUT_PER_MTOK, output: config.LLM_PRICE_OUTPUT_PER_MTOK },
    breaker: {
      errorThresholdPercentage: config.LLM_BREAKER_ERROR_PERCENT,
      resetTimeoutMs: config.LLM_BREAKER_RESET_SECONDS * 1000,
      volumeThreshold: 5
    },
    captureContent: config.LLM_CAPTURE_CONTENT ? scrub : undefined,
    instruments: app.metrics,
    now: () => app.clock().getTime(),
    spend
  })
  app.decorate('answerWriter', writer)
  app.addHook('onClose', async () => { writer.close() })
  if (spend !== undefined) watchSpend(app, spend)
}, { name: 'answer-writer', dependencies: ['config', 'metrics', 'database'] })

/** Reads every instance's spend from the transcript every minute, and serves this view of it as a gauge. */
function watchSpend (app: FastifyInstance, spend: DailySpend): void {
  // A failed read keeps the last figure.
  const readSpend = (): void => {
    spend.refresh().catch(error => log('llm', 'spend', app.log).warn({ err: error }, 'llm.spend_unread'))
  }
  const timer = setInterval(readSpend, 60_000).unref()
  app.addHook('onReady', async () => { readSpend() })
  // The stack's LLMBudgetNearlySpent reads the highest view over the instances.
  const budgetUsed = app.metricsMeter.createObservableGauge('chatbot_llm_budget_used_ratio', {
    unit: '1',
    description: 'The language model\'s spend today (UTC) against LLM_DAILY_BUDGET_USD'
  })
  const observe = (result: ObservableResult): void => { result.observe(spend.usedRatio() ?? 0) }
  budgetUsed.addCallback(observe)
  app.addHook('onClose', async () => {
    clearInterval(timer)
    budgetUsed.removeCallback(observe)
  })
}
