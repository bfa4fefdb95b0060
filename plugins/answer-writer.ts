// The language model that writes answers, when LLM_BASE_URL names one; without it the chat turn
// answers with the passage, as before. Its client and circuit breaker live as long as the app.
import fp from 'fastify-plugin'
import OpenAI from 'openai'
import { AnswerWriter } from '../src/llm/answer-writer.js'
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
  const writer = new AnswerWriter({
    // The client's own timeout bounds each attempt; LLM_TIMEOUT_MS bounds them all together.
    client: new OpenAI({ baseURL: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY === '' ? 'none' : config.LLM_API_KEY, maxRetries: config.LLM_MAX_RETRIES, timeout: config.LLM_TIMEOUT_MS }),
    model: config.LLM_MODEL,
    provider: config.LLM_PROVIDER,
    firstTokenTimeoutMs: config.LLM_FIRST_TOKEN_TIMEOUT_MS,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxOutputTokens: config.LLM_MAX_OUTPUT_TOKENS,
    prices: { input: config.LLM_PRICE_INPUT_PER_MTOK, output: config.LLM_PRICE_OUTPUT_PER_MTOK },
    breaker: { errorThresholdPercentage: config.LLM_BREAKER_ERROR_PERCENT, resetTimeoutMs: config.LLM_BREAKER_RESET_SECONDS * 1000, volumeThreshold: 5 },
    captureContent: config.LLM_CAPTURE_CONTENT ? scrub : undefined,
    instruments: app.metrics
  })
  app.decorate('answerWriter', writer)
  app.addHook('onClose', async () => { writer.close() })
}, { name: 'answer-writer', dependencies: ['config', 'metrics'] })
