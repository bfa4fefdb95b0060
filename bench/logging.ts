/**
 * Logging benchmark: what production logging costs, measured next to no logging in the same run
 * so the ratio holds on any machine.
 *
 * 1. POST /v1/chat over HTTP (autocannon, the chat mix of bench/chat.ts, PGlite, NODE_ENV=production)
 *    on two forked servers logging as src/server.ts does (setUpProcessLogging: the router worker
 *    writing stdout and the rotating chatbot/error/audit files), one at LOG_LEVEL=info and one at
 *    LOG_LEVEL=silent. The two take turns going first over several rounds (measureInRounds) so
 *    that a noisy neighbour hits both alike; medians per configuration and their ratio are
 *    reported, with the log lines and bytes the info server wrote. Goal: info ≥ 85 % of silent.
 * 2. Raw lines/s: a chat log line (an e-mail and a card number in the text for scrub(), an
 *    Authorization header for redaction) written M times through the full pipeline (scrub,
 *    createLogger, the router worker, files rotating at 10m) next to plain pino to one file,
 *    each timed until every line is on disk, then counted there.
 *
 *   npm run bench:logging                                        # 3 rounds × 10 s per configuration, 200,000 lines
 *   npm run bench:logging -- --duration 5 --rounds 5 --lines 500000
 *
 * The servers' and the line writers' stdout is /dev/null: the writes still cost their system calls.
 */
import { fork } from 'node:child_process'
import { once, type EventEmitter } from 'node:events'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { loadConfig } from '../src/config.js'
import { runWithLogger } from '../src/logging/log-context.js'
import { listLogFiles, LOG_FAMILIES, type LogFamily } from '../src/logging/log-files.js'
import { setUpProcessLogging } from '../src/logging/process-logging.js'
import { scrub } from '../src/logging/scrubber.js'
import { benchFlags } from './bench-flags.js'
import { BENCH_APP_ENV, count, formatTable, machineLine, mb, measureInRounds, median, MIX, ms, percent, SESSIONS, startContender, type Contender } from './chat-load.js'

const CONNECTIONS = 10
const WARM_UP_SECONDS = 2
const LINE_RUNS = 3
const ROTATE_AT = '10m'
const GOAL = 0.85
// Secrets the full pipeline must never let through; the plain one writes them, which proves the lines carry them.
const TOKEN = 'sk_live_benchTOKEN0123456789abcdef'
const CARD = '4111 1111 1111 1111'
const EMAIL_DOMAIN = '@example.com'

interface LinesJob { pipeline: 'full' | 'plain', lines: number, dir: string }
interface LinesTiming { seconds: number, producerSeconds: number }

/** Distinct chat lines, built before timing so the runs measure logging, not string building. */
function linePool () {
  return Array.from({ length: 1000 }, (_, i) => ({
    req_id: `bench-${i.toString(16).padStart(8, '0')}`,
    text: `${MIX[i % MIX.length]!.message} I am jane.doe${i}${EMAIL_DOMAIN}, my card is ${CARD}`,
    req: { method: 'POST', url: '/v1/chat', headers: { host: '127.0.0.1:3000', 'user-agent': 'parley-bench/1.0', 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } }
  }))
}

/**
 * The child's side of part 2. Production's router always writes stdout, so each run is a process
 * whose stdout is /dev/null; plain pino runs the same way so both pay for a fresh process alike.
 */
async function writeLines ({ pipeline, lines, dir }: LinesJob): Promise<LinesTiming> {
  const pool = linePool()
  // Yielding now and then, as a server does between requests, lets sonic-boom and thread-stream hand their buffers on.
  const BATCH = 1000
  if (pipeline === 'plain') {
    const destination = pino.destination({ dest: join(dir, 'plain.log'), sync: false })
    await once(destination, 'ready')
    const logger = pino(destination)
    const started = performance.now()
    for (let i = 0; i < lines; i++) {
      const entry = pool[i % pool.length]!
      logger.info({ module: 'chat', fn: 'handleTurn', req_id: entry.req_id, input: 'message', length: entry.text.length, text: entry.text, req: entry.req }, 'chat.message_received')
      if (i % BATCH === BATCH - 1) await yieldToEventLoop()
    }
    const producerSeconds = (performance.now() - started) / 1000
    await new Promise(resolve => { destination.once('close', resolve); destination.end() })
    return { seconds: (performance.now() - started) / 1000, producerSeconds }
  }
  const logging = setUpProcessLogging(loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'info', LOG_DIR: dir, LOG_FILE_MAX_SIZE: ROTATE_AT }))
  // The worker opens the files before it says ready; that start-up is not what is measured.
  await once(logging.destinations.stream as unknown as EventEmitter, 'ready')
  // Inside a request's context, so the mixin adds its fields as it does in the server.
  return await runWithLogger(logging.logger, async () => {
    const started = performance.now()
    for (let i = 0; i < lines; i++) {
      const entry = pool[i % pool.length]!
      logging.logger.info({ module: 'chat', fn: 'handleTurn', req_id: entry.req_id, input: 'message', length: entry.text.length, text: scrub(entry.text), req: entry.req }, 'chat.message_received')
      if (i % BATCH === BATCH - 1) await yieldToEventLoop()
    }
    const producerSeconds = (performance.now() - started) / 1000
    await logging.close()
    return { seconds: (performance.now() - started) / 1000, producerSeconds }
  }, { session_id: '0b7e4c5e-6a57-4c1e-9d0e-5d2b3f1a9c10', user_id: 'u_5f2c9a1d7e3b4a60', command: undefined })
}

const linesJob = process.env.PARLEY_BENCH_LINES
if (linesJob !== undefined) {
  try {
    const timing = await writeLines(JSON.parse(linesJob) as LinesJob)
    await new Promise(resolve => process.send!(timing, resolve))
    process.exit(0)
  } catch (error) {
    await new Promise(resolve => process.send!({ error: (error as Error).stack }, resolve))
    process.exit(1)
  }
}

// ---------------------------------------------------------------------------------------------
// The parent: both parts, the checks and the report.

const { duration, rounds, lines: lineCount } = benchFlags('bench:logging', {
  duration: { default: 10, kind: 'seconds', meaning: 'seconds per round and configuration' },
  rounds: { default: 3, kind: 'count', meaning: 'n' },
  lines: { default: 200_000, kind: 'count', meaning: 'n' }
})

const failures: string[] = []

async function countLines (path: string): Promise<{ lines: number, bytes: number }> {
  let lines = 0
  let bytes = 0
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    bytes += chunk.length
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
  }
  return { lines, bytes }
}

interface FamilyCount { lines: number, bytes: number, files: number }

/** Lines and bytes per family over every file of a log directory, rotated ones included. */
async function countLogDir (dir: string): Promise<Record<LogFamily, FamilyCount>> {
  const counts = Object.fromEntries(LOG_FAMILIES.map(family => [family, { lines: 0, bytes: 0, files: 0 }])) as Record<LogFamily, FamilyCount>
  for (const file of await listLogFiles(dir)) {
    const { lines, bytes } = await countLines(file.path)
    counts[file.family].lines += lines
    counts[file.family].bytes += bytes
    counts[file.family].files++
  }
  return counts
}

// ---------------------------------------------------------------------------------------------
// Part 1: chat throughput, info next to silent.

interface Configuration extends Contender { level: 'info' | 'silent', logDir: string, logs?: Record<LogFamily, FamilyCount> }

const machine = machineLine()
const scratch = await mkdtemp(join(os.tmpdir(), 'parley-bench-logging-'))
const configurations: Configuration[] = [
  { name: 'info, all destinations', level: 'info', served: 0, rows: [], logDir: join(scratch, 'logs-info') },
  { name: 'silent', level: 'silent', served: 0, rows: [], logDir: join(scratch, 'logs-silent') }
]
const roundsOptions = { rounds, duration, connections: CONNECTIONS, warmUpSeconds: WARM_UP_SECONDS }
const lineRuns: Record<LinesJob['pipeline'], Array<LinesTiming & { bytes: number, files: number }>> = { full: [], plain: [] }
let scrubMicros = 0

try {
  try {
    for (const configuration of configurations) {
      const dataDir = join(scratch, `data-${configuration.level}`)
      await mkdir(dataDir)
      await startContender(configuration, {
        env: { ...BENCH_APP_ENV, LOG_LEVEL: configuration.level, LOG_DIR: configuration.logDir, DATA_DIR: dataDir },
        processLogging: true,
        stdout: 'ignore'
      }, roundsOptions)
    }
    await measureInRounds(configurations, roundsOptions)
  } finally {
    // Stopping closes each server's logging, so every line is on disk before it is counted.
    await Promise.all(configurations.map(async configuration => await configuration.server?.stop()))
  }
  for (const configuration of configurations) configuration.logs = await countLogDir(configuration.logDir)

  // -------------------------------------------------------------------------------------------
  // Part 2: raw lines/s, full pipeline next to plain pino.

  const pool = linePool()
  const scrubRuns: number[] = []
  for (let run = 0; run < LINE_RUNS; run++) {
    let characters = 0
    const started = performance.now()
    for (let i = 0; i < lineCount; i++) characters += scrub(pool[i % pool.length]!.text).length
    scrubRuns.push((performance.now() - started) * 1000 / lineCount)
    if (characters === 0) throw new Error('scrub() returned nothing')
  }
  scrubMicros = median(scrubRuns)

  for (let run = 0; run < LINE_RUNS; run++) {
    // Alternating, for the same reason as the rounds above.
    for (const pipeline of run % 2 === 0 ? ['full', 'plain'] as const : ['plain', 'full'] as const) {
      process.stderr.write(`lines, run ${run + 1}/${LINE_RUNS}, ${pipeline}: writing ${count(lineCount)} lines…\n`)
      const dir = await mkdtemp(join(scratch, `lines-${pipeline}-`))
      try {
        const child = fork(fileURLToPath(import.meta.url), [], {
          env: { ...process.env, PARLEY_BENCH_LINES: JSON.stringify({ pipeline, lines: lineCount, dir } satisfies LinesJob) },
          stdio: ['inherit', 'ignore', 'inherit', 'ipc']
        })
        const exited = once(child, 'exit')
        const message = await new Promise<LinesTiming | { error: string }>((resolve, reject) => {
          child.once('message', resolve)
          // Without this a writer that dies silently would leave the await unsettled, and the run would end without a word.
          child.once('exit', code => reject(new Error(`the ${pipeline} line writer exited with code ${code} before reporting`)))
        })
        await exited
        if ('error' in message) throw new Error(`the ${pipeline} line writer failed: ${message.error}`)

        let written: { lines: number, bytes: number, files: number }
        if (pipeline === 'plain') {
          written = { ...await countLines(join(dir, 'plain.log')), files: 1 }
          const sample = (await readFile(join(dir, 'plain.log'))).subarray(0, 4096).toString()
          if (!sample.includes(TOKEN) || !sample.includes(CARD)) failures.push('the plain pino lines do not carry the token and card they were given: the comparison is not like for like')
        } else {
          const counts = await countLogDir(dir)
          written = counts.chatbot
          if (counts.error.lines + counts.audit.lines > 0) failures.push(`the full pipeline wrote ${counts.error.lines} error and ${counts.audit.lines} audit lines for info lines`)
          const files = (await listLogFiles(dir, 'chatbot')).map(file => file.path)
          for (const file of files) {
            const text = await readFile(file, 'utf8')
            if (text.includes(TOKEN) || text.includes(CARD) || text.includes(EMAIL_DOMAIN)) failures.push(`${file} contains a secret the pipeline should have removed`)
          }
          const first = (await readFile(files[0]!, 'utf8')).slice(0, 4096)
          if (!first.includes('"authorization":"[REDACTED]"') || !first.includes('[EMAIL]') || !first.includes('[CARD]')) failures.push('the full pipeline\'s lines show no redaction or scrubbing: it did not run')
        }
        if (written.lines !== lineCount) failures.push(`the ${pipeline} pipeline left ${count(written.lines)} lines on disk, not ${count(lineCount)}`)
        lineRuns[pipeline].push({ ...message, ...written })
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
  }
} finally {
  await rm(scratch, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------
// The report.

const [info, silent] = configurations as [Configuration, Configuration]
const summary = (configuration: Configuration) => ({
  rps: median(configuration.rows.map(row => row.rps)),
  p50: median(configuration.rows.map(row => row.p50)),
  p99: median(configuration.rows.map(row => row.p99))
})
const infoSummary = summary(info)
const silentSummary = summary(silent)
const ratio = infoSummary.rps / silentSummary.rps
const pairedRatio = median(info.rows.map((row, round) => row.rps / silent.rows[round]!.rps))

console.log(`\nLogging benchmark. Machine: ${machine}`)
console.log(`\n1. POST /v1/chat, ${CONNECTIONS} connections, ${rounds} round${rounds === 1 ? '' : 's'} × ${duration} s per configuration (order rotated each round, after a ${Math.min(WARM_UP_SECONDS, duration)} s warm-up each),`)
console.log(`   ${SESSIONS} sessions rotated over ${MIX.length} messages, PGlite, NODE_ENV=production, logging set up as src/server.ts does.`)
console.log('   Server stdout: /dev/null (the child\'s stdio \'ignore\'): each line still costs the server its write system call,')
console.log('   roughly what a container platform\'s stdout pipe costs the process; what its log collector spends is not measured.\n')
const chatTable = [
  ['configuration', 'req/s per round', 'median req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
  ...configurations.map(configuration => {
    const { rps, p50, p99 } = summary(configuration)
    return [configuration.name, configuration.rows.map(row => row.rps.toFixed(0)).join(' / '), rps.toFixed(0), ms(p50), ms(p99),
      String(configuration.rows.reduce((sum, row) => sum + row.non2xx, 0)), String(configuration.rows.reduce((sum, row) => sum + row.errors, 0))]
  })
]
for (const line of formatTable(chatTable)) console.log(`   ${line}`)
console.log(`\n   info / silent: ${percent(ratio)} of the throughput (median of the per-round ratios: ${percent(pairedRatio)}); goal ≥ ${percent(GOAL)}: ${ratio >= GOAL ? 'met' : 'NOT MET'}`)
console.log(`   p50 / p99: ${ms(infoSummary.p50)} / ${ms(infoSummary.p99)} ms at info against ${ms(silentSummary.p50)} / ${ms(silentSummary.p99)} ms silent (medians over the rounds)`)
for (const configuration of configurations) {
  const logs = configuration.logs!
  const lines = LOG_FAMILIES.reduce((sum, family) => sum + logs[family].lines, 0)
  const bytes = LOG_FAMILIES.reduce((sum, family) => sum + logs[family].bytes, 0)
  const files = LOG_FAMILIES.map(family => `${family} ${count(logs[family].lines)} lines / ${mb(logs[family].bytes)} MB`).join(', ')
  const perRequest = configuration.served === 0 ? '' : `; ≈ ${(logs.chatbot.lines / configuration.served).toFixed(2)} lines and ${count(logs.chatbot.bytes / configuration.served)} bytes per request served (${count(configuration.served)})`
  console.log(`   log files of ${configuration.name}: ${count(lines)} lines, ${mb(bytes)} MB (${files})${perRequest}`)
}
const infoBytesPerRequest = info.logs!.chatbot.bytes / Math.max(1, info.served)
console.log(`   at ${infoSummary.rps.toFixed(0)} req/s that is ${mb(infoBytesPerRequest * infoSummary.rps)} MB/s to chatbot.log and as much again to stdout`)

console.log(`\n2. Raw lines: ${count(lineCount)} chat lines per run, median of ${LINE_RUNS} runs each (alternating), each run in a child process`)
console.log('   with stdout on /dev/null, timed from the first line until every destination is closed (all lines on disk).')
console.log(`   full: scrub() on the text, createLogger (redaction, mixin) into the router worker: stdout + chatbot.log rotating at ${ROTATE_AT}.`)
console.log('   plain: pino(pino.destination({ dest: file, sync: false })), the same objects without scrub or redaction.\n')
const pipelineSummary = (pipeline: LinesJob['pipeline']) => {
  const runs = lineRuns[pipeline]
  const seconds = median(runs.map(run => run.seconds))
  const bytes = median(runs.map(run => run.bytes))
  return {
    linesPerSecond: median(runs.map(run => lineCount / run.seconds)),
    mbPerSecond: median(runs.map(run => run.bytes / 1e6 / run.seconds)),
    seconds,
    producerSeconds: median(runs.map(run => run.producerSeconds)),
    bytesPerLine: bytes / lineCount,
    files: median(runs.map(run => run.files)),
    perRun: runs.map(run => count(lineCount / run.seconds)).join(' / ')
  }
}
const full = pipelineSummary('full')
const plain = pipelineSummary('plain')
const linesTable = [
  ['pipeline', 'lines/s per run', 'median lines/s', 'MB/s', 's', 'of which writing', 'bytes/line', 'files'],
  ...([['full', full], ['plain pino', plain]] as const).map(([name, s]) => [name, s.perRun, count(s.linesPerSecond), s.mbPerSecond.toFixed(1), s.seconds.toFixed(2), s.producerSeconds.toFixed(2), count(s.bytesPerLine), String(s.files)])
]
for (const line of formatTable(linesTable)) console.log(`   ${line}`)
console.log(`\n   full / plain: ${percent(full.linesPerSecond / plain.linesPerSecond)} of the lines/s, ${percent(full.mbPerSecond / plain.mbPerSecond)} of the MB/s`)
console.log('   ("of which writing": the main thread\'s time issuing the lines, the rest is waiting for the destinations to drain;')
console.log('   MB/s and bytes/line count chatbot.log; the full pipeline writes the same bytes to stdout too)')
console.log(`   scrub() alone on these texts: ${scrubMicros.toFixed(2)} µs per message (median of ${LINE_RUNS} runs over ${count(lineCount)} messages)`)

const failedRequests = configurations.filter(configuration => configuration.rows.some(row => row.non2xx + row.errors > 0))
if (failedRequests.length > 0) failures.push(`requests failed on ${failedRequests.map(configuration => configuration.name).join(', ')}: these figures are not a valid measurement`)
if (info.logs!.chatbot.lines === 0) failures.push(`the info server wrote no lines to ${info.logDir}: it did not log, so the comparison measures nothing`)
for (const failure of failures) console.log(`\n!!! ${failure} !!!`)
if (failures.length > 0) process.exitCode = 1
