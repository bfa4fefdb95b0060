/**
 * A chat turn as the user waits for it, on the embedded database with a large knowledge base: the
 * goal is a p50 at most 1.25 times the build's before the FAQ work (69c29b5) with 5,000 documents. Each build's server (its own dist/bench/chat-server.js) runs on a PGlite folder of its
 * own, gets SciFact's documents through POST /v1/kb/documents, then is asked the same questions one
 * at a time, each timed from the request to the last byte of its reply. The builds alternate over
 * the rounds, so a noisy neighbour hits them alike; each round's p50 is kept, and the median of
 * those is reported.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { BENCH_APP_ENV, inRotatingRounds, median, postJson, quantile, startServer, type Server } from './chat-load.js'
import type { CorpusDoc } from './datasets.js'

export interface TurnBuild {
  label: string
  /** Its dist/bench/chat-server.js. */
  script: string
}

const ADMIN_KEY = 'bench-answer-turns-admin-key'
// Small enough for any build's body limit on the knowledge-base route.
const IMPORT_BATCH = 200
// Sessions the questions rotate through: each turn reads its session's history, as in production.
const SESSIONS = 10

interface RunningBuild { build: TurnBuild, server: Server, sessions: string[], p50s: number[], p90s: number[] }

async function start (build: TurnBuild, folder: string, docs: readonly CorpusDoc[]): Promise<RunningBuild> {
  process.stderr.write(`${build.label}: importing ${docs.length} documents…\n`)
  const env = { ...BENCH_APP_ENV, LOG_LEVEL: 'silent', API_KEYS: `${ADMIN_KEY}:admin`, DATA_DIR: join(folder, build.label.replace(/\W+/g, '-')) }
  const server = await startServer({ env, stdout: 'ignore', script: build.script })
  for (let from = 0; from < docs.length; from += IMPORT_BATCH) {
    const documents = docs.slice(from, from + IMPORT_BATCH).map(({ id, title, text }) => ({ id, title, text }))
    const { status, body } = await postJson(server.port, '/v1/kb/documents', { documents }, ADMIN_KEY)
    if (status >= 300) throw new Error(`${build.label}: importing documents answered ${status}: ${JSON.stringify(body)}`)
  }
  const sessions: string[] = []
  for (let i = 0; i < SESSIONS; i++) {
    const { status, body } = await postJson(server.port, '/v1/chat', { message: '/help', user_id: `bench-user-${i}` })
    if (status !== 200) throw new Error(`${build.label}: opening a session answered ${status}`)
    sessions.push(String(body.session_id))
  }
  return { build, server, sessions, p50s: [], p90s: [] }
}

async function ask (run: RunningBuild, questions: readonly string[]): Promise<void> {
  const took: number[] = []
  for (const [n, message] of questions.entries()) {
    const started = performance.now()
    const { status } = await postJson(run.server.port, '/v1/chat', { message, session_id: run.sessions[n % SESSIONS] })
    took.push(performance.now() - started)
    if (status !== 200) throw new Error(`${run.build.label}: a turn answered ${status}`)
  }
  took.sort((a, b) => a - b)
  run.p50s.push(quantile(took, 0.5))
  run.p90s.push(quantile(took, 0.9))
}

/** Lines of the report: each build's median p50 and p90, and the first build's p50 against each other's. */
export async function measureAnswerTurns (builds: readonly TurnBuild[], docs: readonly CorpusDoc[], questions: readonly string[], rounds: number): Promise<string[]> {
  const folder = await mkdtemp(join(os.tmpdir(), 'parley-answer-turns-'))
  const running: RunningBuild[] = []
  try {
    for (const build of builds) running.push(await start(build, folder, docs))
    // One unrecorded pass each, so JIT compilation and cold caches do not count.
    for (const run of running) await ask(run, questions)
    for (const run of running) { run.p50s.length = 0; run.p90s.length = 0 }
    await inRotatingRounds(running, rounds, async run => await ask(run, questions))
  } finally {
    await Promise.all(running.map(async ({ server }) => await server.stop()))
    await rm(folder, { recursive: true, force: true })
  }
  const [first, ...others] = running
  return [
    `A chat turn over HTTP on the embedded database (PGlite), ${docs.length} documents, ${questions.length} questions one at a time, median of ${rounds} rounds:`,
    ...running.map(({ build, p50s, p90s }) => `- ${build.label}: p50 ${median(p50s).toFixed(2)} ms, p90 ${median(p90s).toFixed(2)} ms`),
    ...others.map(other => `- ${first!.build.label}'s p50 is ${(median(first!.p50s) / median(other.p50s)).toFixed(2)}x ${other.build.label}'s`)
  ]
}
