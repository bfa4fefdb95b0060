/**
 * Model path benchmark: what Parley adds to a turn on top of the model's own latency, and how soon
 * a streamed reply's first event leaves Parley after the model's first chunk. The model is the
 * scripted OpenAI-compatible server of bench/scripted-model.ts (no model can run here), on loopback.
 *
 *   npm run bench:llm                  # 1000 turns a series; exits 1 when a goal is missed
 *   npm run bench:llm -- --turns 100
 *   npm run bench:llm -- --smoke       # 30 turns, as CI runs it: that it runs end to end, goals not judged
 *
 * In one run, turn by turn, the three taking turns going first (these machines are noisy):
 * - the model alone: the official client streaming one answer from the scripted server, as any
 *   client sees the model;
 * - a turn without a model (the passage answers), through the app (inject, no network);
 * - the same turn with the model writing the answer.
 * The model path's overhead is (turn with the model) − (turn without) − (the model alone), medians.
 * Then, over real HTTP with Accept: text/event-stream, the time from the scripted server writing its
 * first chunk to the client reading the first `delta` event. Goals: under 1 ms, within 5 ms.
 * Logging is silent and no OpenTelemetry SDK runs (bench:logging and bench:telemetry measure those).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { benchFlags } from './bench-flags.js'
import { BENCH_APP_ENV, formatTable, machineLine, median, quantile } from './chat-load.js'
import { startScriptedModel } from './scripted-model.js'

const flags = benchFlags('bench:llm', { turns: { default: 1000, kind: 'count', meaning: 'n' }, smoke: { kind: 'switch', meaning: '30 turns, goals not judged' } })
// Thirty turns tell whether the path runs, not what it costs: their medians move by more than the goal.
const turns = flags.smoke ? 30 : flags.turns
const QUESTION = 'how do I view traces?'
const ANSWER = 'Open Jaeger and search by the trace id that each reply carries in its trace_id field [1].'

const closers: Array<() => Promise<void>> = []
const owner = { teardown: (close: () => Promise<void>) => { closers.push(close) } }
const folder = await mkdtemp(join(os.tmpdir(), 'parley-bench-llm-'))
const model = await startScriptedModel(owner)
// For the overhead, the whole answer at once (the model as fast as it can be); for the first event,
// the rest 20 ms after the first chunk, as a model spaces its tokens.
const atOnce = (): void => { model.script({ kind: 'answer', text: ANSWER }) }
const paced = (): void => { model.script({ kind: 'answer', text: ANSWER, restAfterMs: 20 }) }

async function app (name: string, env: Record<string, string>): Promise<FastifyInstance> {
  const built = await buildApp({ config: loadConfig({ ...BENCH_APP_ENV, LOG_LEVEL: 'silent', DATA_DIR: join(folder, name), ...env }) })
  closers.unshift(async () => { await built.close() })
  return built
}
const withModel = { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model' }
const passageApp = await app('passage', {})
const modelApp = await app('model', withModel)
const client = new OpenAI({ baseURL: model.url, apiKey: 'none', maxRetries: 0 })

const timed = async (run: () => Promise<void>): Promise<number> => {
  const started = performance.now()
  await run()
  return performance.now() - started
}
const turn = (on: FastifyInstance) => async (): Promise<void> => {
  const response = await on.inject({ method: 'POST', url: '/v1/chat', payload: { message: QUESTION } })
  if (response.statusCode !== 200) throw new Error(`POST /v1/chat answered ${response.statusCode}: ${response.body}`)
}
// The model alone is asked exactly what Parley asks it (the grounded prompt with the passages found).
atOnce()
await turn(modelApp)()
const asked = model.requests[0]!.body
const series = {
  'the model alone (client → scripted server)': async (): Promise<void> => {
    atOnce()
    const stream = await client.chat.completions.create({ ...asked, messages: asked.messages as OpenAI.ChatCompletionMessageParam[], stream: true, stream_options: { include_usage: true } })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
    if (text !== ANSWER) throw new Error(`the scripted model sent ${text}`)
  },
  'a turn without a model (the passage)': turn(passageApp),
  'a turn with the model writing the answer': async (): Promise<void> => {
    atOnce()
    await turn(modelApp)()
  }
}
type Series = keyof typeof series
const names = Object.keys(series) as Series[]
const times = Object.fromEntries(names.map(name => [name, [] as number[]])) as Record<Series, number[]>

// A warm-up the figures do not count: JIT compilation, the databases' first statements.
for (const name of names) for (let i = 0; i < 20; i++) await series[name]()
process.stderr.write(`bench:llm: ${turns} turns a series…\n`)
for (let i = 0; i < turns; i++) {
  for (let j = 0; j < names.length; j++) {
    const name = names[(i + j) % names.length]!
    times[name].push(await timed(series[name]))
  }
}

// The first event of a streamed reply, over real HTTP, against the model's first chunk.
const base = await modelApp.listen({ host: '127.0.0.1', port: 0 })
const firstEventLag: number[] = []
for (let i = 0; i < Math.min(turns, 200); i++) {
  paced()
  const response = await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ message: QUESTION }) })
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  for (let next = await reader.read(); next.done !== true; next = await reader.read()) {
    text += decoder.decode(next.value, { stream: true })
    if (text.includes('event: delta\n') && firstEventLag.length === i) firstEventLag.push(performance.now() - model.requests.at(-1)!.firstChunkAt!)
  }
  if (!text.includes('event: done\n')) throw new Error(`the stream ended without its done event: ${text.slice(-200)}`)
}

for (const close of closers) await close()
await rm(folder, { recursive: true, force: true })

const fixed = (value: number): string => value.toFixed(3)
const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b)
const rows = names.map(name => [name, String(times[name].length), fixed(median(times[name])), fixed(quantile(sorted(times[name]), 0.95))])
const [alone, passage, written] = names.map(name => median(times[name]))
const overhead = written! - passage! - alone!
const lag = sorted(firstEventLag)
console.log(`# Model path benchmark (${machineLine()})\n`)
console.log(formatTable([['series', 'turns', 'median ms', 'p95 ms'], ...rows]).join('\n'))
const goals = { overhead: overhead < 1, firstEvent: quantile(lag, 0.95) <= 5 }
const verdict = (met: boolean): string => flags.smoke ? 'not judged on a smoke run' : met ? 'met' : 'MISSED'
console.log(`\nThe model path's overhead per turn: ${fixed(written!)} − ${fixed(passage!)} − ${fixed(alone!)} = ${fixed(overhead)} ms (goal < 1 ms): ${verdict(goals.overhead)}`)
console.log(`First SSE event after the model's first chunk, over HTTP (${lag.length} turns): median ${fixed(median(lag))} ms, p95 ${fixed(quantile(lag, 0.95))} ms (goal ≤ 5 ms): ${verdict(goals.firstEvent)}`)
if (!flags.smoke && !(goals.overhead && goals.firstEvent)) process.exitCode = 1
