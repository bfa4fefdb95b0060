// The OpenTelemetry GenAI semantic conventions Parley follows, pinned to their v1.41.0 text: these
// names are in development and may change in any release. They are copied here (as OpenTelemetry's
// JS packages advise for incubating names) from @opentelemetry/semantic-conventions 1.45.0's
// `incubating` entry, which test/src/llm checks them against. That package froze its GenAI names at
// the conventions' v1.41.0 and marks them deprecated, as they moved to the semantic-conventions-genai
// repository, whose later releases rename some (retrieval's top_k among them): moving to one of those
// is a change to this file, its test and the dashboards and alerts that read the metrics.
export const GenAi = {
  operationName: 'gen_ai.operation.name',
  dataSourceId: 'gen_ai.data_source.id',
  requestTopK: 'gen_ai.request.top_k',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  conversationId: 'gen_ai.conversation.id',
  tokenType: 'gen_ai.token.type',
  systemInstructions: 'gen_ai.system_instructions',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  evaluationName: 'gen_ai.evaluation.name',
  evaluationScoreLabel: 'gen_ai.evaluation.score.label',
  evaluationScoreValue: 'gen_ai.evaluation.score.value'
} as const

export const GenAiMetric = {
  tokenUsage: 'gen_ai.client.token.usage',
  operationDuration: 'gen_ai.client.operation.duration',
  timeToFirstChunk: 'gen_ai.client.operation.time_to_first_chunk'
} as const

/** The event a user's rating of a generated answer becomes on its turn's trace. */
export const GEN_AI_EVALUATION_RESULT = 'gen_ai.evaluation.result'

// The buckets the conventions advise for each histogram.
export const TOKEN_USAGE_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864
]
export const OPERATION_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92
]
