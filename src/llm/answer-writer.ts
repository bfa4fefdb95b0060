// A language model writes the answer from the passages the search found, through any endpoint
// that speaks OpenAI's Chat Completions (OpenAI, Ollama, vLLM, llama.cpp's server...), with the
// official client, which retries 429 and 5xx with backoff and honours Retry-After. Around it: a
// deadline for the first token and one for the whole answer, a circuit breaker (opossum) that stops
// calling a model that keeps failing, and the check that every citation names a given passage.
// It never throws: a failure is a reason to fall back to the extractive reply. Each call is a
// `chat {model}` client span with the GenAI conventions' attributes and metrics.
import { isSpanContextValid, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api'
import type { Instruments } from '../telemetry/metrics.js'
import CircuitBreaker from 'opossum'
import OpenAI from 'openai'
import { log } from '../logging/log-context.js'
import { scrub } from '../logging/scrubber.js'
import { SlidingHistogram, type MeasureReading } from '../health/sliding-window.js'
import type { DailySpend } from './daily-spend.js'
import { inSpan } from '../telemetry/spans.js'
import { GenAi } from '../telemetry/gen-ai-conventions.js'
import {
  checkCitations, groundedMessages, PROMPT_LABEL, type PromptMessage, type PromptPassage
} from './grounded-prompt.js'

export const FALLBACK_REASONS = [
  'first_token_timeout', 'timeout', 'rate_limited', 'server_error', 'unreachable', 'refused', 'malformed', 'empty',
  'truncated', 'no_citation', 'unknown_citation', 'circuit_open', 'budget_exhausted', 'canceled'
] as const
export type FallbackReason = typeof FALLBACK_REASONS[number]
// A model need not honour max_tokens: its answer is cut at this many characters a token asked for
// (a token is a few characters in any language), so that one endpoint cannot fill the memory, the
// reply or the transcript. Cut, it is truncated and falls back like one stopped at the limit.
export const CHARACTERS_PER_OUTPUT_TOKEN = 16
// No call reached the model: nothing to time.
const NOT_CALLED: ReadonlySet<FallbackReason> = new Set(['circuit_open', 'budget_exhausted'])
const called = (result: WriteResult): boolean => result.ok || !NOT_CALLED.has(result.reason)
// Refused before the model wrote anything (a status, no connection, no call): nothing to pay.
const UNBILLED: ReadonlySet<FallbackReason> =
  new Set([...NOT_CALLED, 'rate_limited', 'server_error', 'unreachable', 'refused'])
// The user went away: the model is not the worse for it, and neither is what users get.
const NOT_DEGRADED: ReadonlySet<FallbackReason> = new Set(['canceled'])

export interface AnswerWriterOptions {
  client: OpenAI
  model: string
  /** gen_ai.provider.name: openai, ollama... */
  provider: string
  firstTokenTimeoutMs: number
  timeoutMs: number
  maxOutputTokens: number
  /** US dollars per million tokens. */
  prices: { input: number, output: number }
  /**
   * The share of the last minute's calls (volumeThreshold at least) that opens the breaker, and how long
   * it stays open.
   */
  breaker: { errorThresholdPercentage: number, resetTimeoutMs: number, volumeThreshold: number }
  /** Opt-in: prompt and completion on the span, through this (the scrubber); absent, neither is recorded. */
  captureContent?: (text: string) => string
  instruments?: Pick<
    Instruments,
    'genAiTokenUsage' | 'genAiOperationDuration' | 'genAiTimeToFirstChunk' | 'llmFallbacks' | 'llmCost'
  >
  /** Time, for the alerts' windows (tests move it). */
  now?: () => number
  /** The day's spend against LLM_DAILY_BUDGET_USD: at the budget, no call is made. */
  spend?: DailySpend
}

export interface WriteRequest {
  question: string
  /** The question a follow-up leans on, when the search used it. */
  earlierQuestion?: string
  passages: readonly PromptPassage[]
  conversationId?: string
  /** Aborts the call: the client went away. */
  signal?: AbortSignal
  /** Each piece of text as it streams in. */
  onText?: (text: string) => void
}

export interface Usage {
  inputTokens: number
  outputTokens: number
  costUsd: number
  /**
   * Counted from the characters sent and received: the endpoint sent no usage (a call given up, cut, or
   * an endpoint that never does).
   */
  estimated?: true
}

// Tokens from characters when the endpoint does not say: about four characters a token in English.
const CHARACTERS_PER_TOKEN = 4
const tokensIn = (characters: number): number => Math.ceil(characters / CHARACTERS_PER_TOKEN)

/** One call to the language model, as the turn records it (stored as the reply's Generation: transcript/). */
export interface ModelCall {
  model: string
  prompt: string
  usage?: Usage
  timeToFirstChunkMs?: number
  /** gen_ai.response.id, the provider's id of the answer. */
  responseId?: string
  /** The call's `chat {model}` span, when it is traced: a rating of the answer is recorded under it. */
  spanId?: string
}
export type WriteResult =
  | ModelCall & { ok: true, text: string, cited: number[] }
  | ModelCall & { ok: false, reason: FallbackReason }

interface Streamed {
  text: string
  usage?: OpenAI.CompletionUsage
  responseModel?: string
  responseId?: string
  finishReasons: string[]
  timeToFirstChunkMs?: number
}

/** What the endpoint said of a failed call, for the operator: its status and error, never the model's text. */
interface FailureDetail { status?: number, error?: string }

class Failure extends Error {
  override name = 'Failure'

  constructor (readonly reason: FallbackReason, readonly streamed?: Streamed, readonly detail: FailureDetail = {}) {
    super(reason)
  }
}

export class AnswerWriter {
  private readonly breaker: CircuitBreaker<[WriteRequest, PromptMessage[]], Streamed>
  /** What every span and metric point of a call carries. */
  private readonly common: Record<string, string | number>
  // Over the last hour, for the alerts: the answers asked of the model, those that fell back (but
  // for the user leaving), and the duration of every call made.
  private readonly asked: SlidingHistogram
  private readonly fellBack: SlidingHistogram
  private readonly callSeconds: SlidingHistogram

  constructor (private readonly options: AnswerWriterOptions) {
    const url = new URL(options.client.baseURL)
    // Known series start at 0, so rate() and increase() see the first fallback of each reason.
    for (const reason of FALLBACK_REASONS) options.instruments?.llmFallbacks.add(0, { reason })
    const window = { horizonMs: 3_600_000, now: options.now }
    this.asked = new SlidingHistogram(window)
    this.fellBack = new SlidingHistogram(window)
    this.callSeconds = new SlidingHistogram(window)
    this.common = {
      [GenAi.operationName]: 'chat',
      [GenAi.providerName]: options.provider,
      [GenAi.requestModel]: options.model,
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    }
    const { errorThresholdPercentage, resetTimeoutMs, volumeThreshold } = options.breaker
    const fire = async (request: WriteRequest, messages: PromptMessage[]) => await this.stream(request, messages)
    this.breaker = new CircuitBreaker(fire, {
      timeout: false, // the deadlines are the stream's own
      errorThresholdPercentage,
      volumeThreshold,
      resetTimeout: resetTimeoutMs,
      rollingCountTimeout: 60_000,
      // What the model did not cause does not count against it (opossum counts it as a success).
      errorFilter: (error: unknown) =>
        error instanceof Failure && (error.reason === 'canceled' || error.reason === 'refused')
    })
    const breakerLog = log('llm', 'breaker')
    this.breaker.on('open', () => breakerLog.warn({ model: options.model }, 'llm.circuit_opened'))
    this.breaker.on('halfOpen', () => breakerLog.info({ model: options.model }, 'llm.circuit_half_open'))
    this.breaker.on('close', () => breakerLog.info({ model: options.model }, 'llm.circuit_closed'))
  }

  get model (): string { return this.options.model }

  /** What the LLMDegraded and LLMBudgetNearlySpent rules read. */
  measure (
    name: 'llm_fallback_ratio' | 'llm_call_p95_seconds' | 'llm_budget_used_ratio',
    windowMs: number
  ): MeasureReading {
    if (name === 'llm_budget_used_ratio') return { value: this.options.spend?.usedRatio() }
    if (name === 'llm_call_p95_seconds') {
      return { value: this.callSeconds.quantile(0.95, windowMs), samples: this.callSeconds.count(windowMs) }
    }
    const asked = this.asked.count(windowMs)
    return { value: asked === 0 ? undefined : this.fellBack.count(windowMs) / asked, samples: asked }
  }

  async write (request: WriteRequest): Promise<WriteResult> {
    const { model } = this.options
    const attributes = {
      ...this.common,
      [GenAi.requestMaxTokens]: this.options.maxOutputTokens,
      [GenAi.requestStream]: true,
      ...(request.conversationId === undefined ? {} : { [GenAi.conversationId]: request.conversationId }),
      'parley.prompt': PROMPT_LABEL
    }
    return await inSpan(`chat ${model}`, attributes, async span => {
      const started = performance.now()
      const messages = groundedMessages(request.question, request.passages, request.earlierQuestion)
      let streamed: Streamed | undefined
      let detail: FailureDetail = {}
      let result: WriteResult
      // The prompt's tokens as the endpoint will count them are known only after the call.
      const promptTokens = tokensIn(messages.reduce((sum, message) => sum + message.content.length, 0))
      const mostCost = this.cost({ prompt_tokens: promptTokens, completion_tokens: this.options.maxOutputTokens })
      let reserved = 0
      try {
        if (this.options.spend?.reserve(mostCost) === false) throw new Failure('budget_exhausted')
        reserved = mostCost
        streamed = await this.breaker.fire(request, messages)
        const generation = this.modelCall(streamed)
        const checked = checkCitations(streamed.text, request.passages.length)
        // An answer cut off at LLM_MAX_OUTPUT_TOKENS stops mid-sentence: the passage is better.
        result = streamed.text.trim() === ''
          ? { ...generation, ok: false, reason: 'empty' }
          : streamed.finishReasons.includes('length')
            ? { ...generation, ok: false, reason: 'truncated' }
            : checked.ok
              ? { ...generation, ok: true, text: streamed.text.trim(), cited: checked.cited }
              : { ...generation, ok: false, reason: checked.reason }
      } catch (error) {
        const failure = error instanceof Failure
          ? error
          : new Failure(CircuitBreaker.isOurError(error as Error) ? 'circuit_open' : 'malformed')
        streamed = failure.streamed
        detail = failure.detail
        result = {
          ...(streamed === undefined ? { model, prompt: PROMPT_LABEL } : this.modelCall(streamed)),
          ok: false,
          reason: failure.reason
        }
      }
      // A call the model worked on is paid for, given up or cut too: its prompt, and what it wrote so far.
      if (result.usage === undefined && (result.ok || !UNBILLED.has(result.reason))) {
        const usage = { prompt_tokens: promptTokens, completion_tokens: tokensIn(streamed?.text.length ?? 0) }
        result = {
          ...result,
          usage: {
            inputTokens: usage.prompt_tokens,
            outputTokens: usage.completion_tokens,
            costUsd: this.cost(usage),
            estimated: true
          }
        }
      }
      this.options.spend?.settle(reserved, result.usage?.costUsd ?? 0)
      this.record(span, messages, result, streamed, detail, (performance.now() - started) / 1000)
      return isSpanContextValid(span.spanContext()) ? { ...result, spanId: span.spanContext().spanId } : result
    }, SpanKind.CLIENT)
  }

  /** Stops the breaker's timers. */
  close (): void {
    this.breaker.shutdown()
  }

  private modelCall (streamed: Streamed): ModelCall {
    const usage = streamed.usage === undefined
      ? undefined
      : {
          inputTokens: streamed.usage.prompt_tokens,
          outputTokens: streamed.usage.completion_tokens,
          costUsd: this.cost(streamed.usage)
        }
    return {
      model: streamed.responseModel ?? this.options.model,
      prompt: PROMPT_LABEL,
      usage,
      timeToFirstChunkMs: streamed.timeToFirstChunkMs,
      responseId: streamed.responseId
    }
  }

  private cost (usage: Pick<OpenAI.CompletionUsage, 'prompt_tokens' | 'completion_tokens'>): number {
    const { input, output } = this.options.prices
    return (usage.prompt_tokens * input + usage.completion_tokens * output) / 1_000_000
  }

  private async stream (request: WriteRequest, messages: PromptMessage[]): Promise<Streamed> {
    // The client retries a 429 or a 5xx by itself: a deadline that passes while it waits to retry
    // names that status as the cause, not the deadline.
    let lastStatus = 0
    const client = this.options.client.withOptions({
      fetch: async (url, init) => {
        const response = await fetch(url, init)
        lastStatus = response.status
        return response
      }
    })
    const controller = new AbortController()
    const stop = (reason: FallbackReason): void => { controller.abort(new Failure(reason)) }
    const passed = (deadline: FallbackReason): FallbackReason =>
      lastStatus === 429 ? 'rate_limited' : lastStatus >= 500 ? 'server_error' : deadline
    const onCancel = (): void => { stop('canceled') }
    if (request.signal?.aborted === true) onCancel()
    request.signal?.addEventListener('abort', onCancel, { once: true })
    const firstToken = setTimeout(() => { stop(passed('first_token_timeout')) }, this.options.firstTokenTimeoutMs)
    const total = setTimeout(() => { stop(passed('timeout')) }, this.options.timeoutMs)
    const started = performance.now()
    const streamed: Streamed = { text: '', finishReasons: [] }
    const maxCharacters = this.options.maxOutputTokens * CHARACTERS_PER_OUTPUT_TOKEN
    try {
      const call = client.chat.completions.create({
        model: this.options.model,
        messages,
        max_tokens: this.options.maxOutputTokens,
        stream: true,
        stream_options: { include_usage: true }
      }, { signal: controller.signal })
      // The client sleeps out a Retry-After without watching the signal: a deadline or a caller
      // that left must not wait for it. What the call does once given up is of no interest.
      call.catch(() => {})
      const stream = await Promise.race([call, abortion(controller.signal)])
      for await (const chunk of stream) {
        streamed.timeToFirstChunkMs ??= performance.now() - started
        streamed.responseModel ??= chunk.model
        streamed.responseId ??= chunk.id
        if (chunk.usage != null) streamed.usage = chunk.usage
        for (const choice of chunk.choices ?? []) {
          if (choice.finish_reason != null) streamed.finishReasons.push(choice.finish_reason)
          const text = choice.delta?.content
          if (typeof text !== 'string' || text === '') continue
          clearTimeout(firstToken)
          if (streamed.text.length + text.length > maxCharacters) {
            stop('truncated')
            break
          }
          streamed.text += text
          request.onText?.(text)
        }
        if (controller.signal.aborted) break
      }
      // The client ends an aborted stream as if it were complete.
      if (controller.signal.aborted) throw controller.signal.reason
      return streamed
    } catch (error) {
      const reason = controller.signal.reason instanceof Failure ? controller.signal.reason.reason : reasonOf(error)
      const partial = streamed.timeToFirstChunkMs === undefined ? undefined : streamed
      throw new Failure(reason, partial, detailOf(error, lastStatus))
    } finally {
      clearTimeout(firstToken)
      clearTimeout(total)
      request.signal?.removeEventListener('abort', onCancel)
    }
  }

  private record (
    span: Span,
    messages: PromptMessage[],
    result: WriteResult,
    streamed: Streamed | undefined,
    detail: FailureDetail,
    seconds: number
  ): void {
    const { instruments, captureContent } = this.options
    const common = {
      ...this.common,
      ...(streamed?.responseModel === undefined ? {} : { [GenAi.responseModel]: streamed.responseModel })
    }
    if (streamed?.responseModel !== undefined) span.setAttribute(GenAi.responseModel, streamed.responseModel)
    if (streamed?.responseId !== undefined) span.setAttribute(GenAi.responseId, streamed.responseId)
    if (streamed !== undefined && streamed.finishReasons.length > 0) {
      span.setAttribute(GenAi.responseFinishReasons, streamed.finishReasons)
    }
    if (result.timeToFirstChunkMs !== undefined) {
      span.setAttribute(GenAi.responseTimeToFirstChunk, result.timeToFirstChunkMs / 1000)
      instruments?.genAiTimeToFirstChunk.record(result.timeToFirstChunkMs / 1000, common)
    }
    if (result.usage?.estimated === true) {
      // Not the endpoint's count: the cost, but not the conventions' token attributes and metric.
      span.setAttributes({ 'parley.cost_usd': result.usage.costUsd, 'parley.usage_estimated': true })
      instruments?.llmCost.add(result.usage.costUsd, { [GenAi.requestModel]: this.options.model })
    } else if (result.usage !== undefined) {
      span.setAttributes({
        [GenAi.usageInputTokens]: result.usage.inputTokens,
        [GenAi.usageOutputTokens]: result.usage.outputTokens,
        'parley.cost_usd': result.usage.costUsd
      })
      instruments?.genAiTokenUsage.record(result.usage.inputTokens, { ...common, [GenAi.tokenType]: 'input' })
      instruments?.genAiTokenUsage.record(result.usage.outputTokens, { ...common, [GenAi.tokenType]: 'output' })
      instruments?.llmCost.add(result.usage.costUsd, { [GenAi.requestModel]: this.options.model })
    }
    if (captureContent !== undefined) {
      // In the conventions' JSON schemas: the system prompt (with the passages) apart from the messages.
      const parts = (text: string) => [{ type: 'text', content: captureContent(text) }]
      const system = messages.filter(m => m.role === 'system').flatMap(m => parts(m.content))
      span.setAttribute(GenAi.systemInstructions, JSON.stringify(system))
      const input = messages.filter(m => m.role !== 'system').map(m => ({ role: m.role, parts: parts(m.content) }))
      span.setAttribute(GenAi.inputMessages, JSON.stringify(input))
      if (streamed !== undefined) {
        const output = [{
          role: 'assistant',
          parts: parts(streamed.text),
          finish_reason: streamed.finishReasons[0] ?? 'error'
        }]
        span.setAttribute(GenAi.outputMessages, JSON.stringify(output))
      }
    }
    this.asked.record()
    if (called(result)) this.callSeconds.record(seconds)
    const logger = log('llm', 'write')
    const fields = {
      model: this.options.model,
      prompt: PROMPT_LABEL,
      ms: Math.round(seconds * 1000),
      first_chunk_ms: result.timeToFirstChunkMs === undefined ? undefined : Math.round(result.timeToFirstChunkMs),
      input_tokens: result.usage?.inputTokens,
      output_tokens: result.usage?.outputTokens,
      cost_usd: result.usage?.costUsd
    }
    if (result.ok) {
      instruments?.genAiOperationDuration.record(seconds, common)
      logger.info({ ...fields, cited: result.cited }, 'llm.answer_written')
      return
    }
    span.setAttribute('error.type', result.reason)
    span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason })
    if (called(result)) instruments?.genAiOperationDuration.record(seconds, { ...common, 'error.type': result.reason })
    instruments?.llmFallbacks.add(1, { reason: result.reason })
    if (!NOT_DEGRADED.has(result.reason)) this.fellBack.record()
    logger.warn({ ...fields, reason: result.reason, ...detail }, 'llm.fallback')
  }
}

/**
 * The status and error of a failed call, so that a wrong LLM_BASE_URL (404), key (401) or model
 * name says so in the llm.fallback line. Only the endpoint's own error message, scrubbed and cut
 * short: a chunk that failed to parse holds the model's text, and its error quotes it.
 */
function detailOf (error: unknown, lastStatus: number): FailureDetail {
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    return { status: error.status, error: scrub(error.message).slice(0, 200) }
  }
  if (error instanceof OpenAI.APIConnectionError) {
    const code = error.cause as { code?: unknown, cause?: { code?: unknown } } | undefined
    const named = code?.code ?? code?.cause?.code
    return { error: typeof named === 'string' ? named : error.message }
  }
  return lastStatus === 0 ? {} : { status: lastStatus }
}

/** Rejects with the signal's reason when it aborts. */
async function abortion (signal: AbortSignal): Promise<never> {
  return await new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
  })
}

function reasonOf (error: unknown): FallbackReason {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return 'timeout'
  if (error instanceof OpenAI.APIConnectionError) return 'unreachable'
  if (error instanceof OpenAI.RateLimitError) return 'rate_limited'
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    return error.status >= 500 ? 'server_error' : 'refused'
  }
  return 'malformed'
}
