/**
 * Log analysis benchmark: `npm run analyze -- errors` and `-- usage` over a generated log set of
 * about 1 GB (several rotated chatbot files, the older ones gzipped, and error files), next to
 * jq computing the same error-fingerprint counts from the chatbot files (which hold every error
 * line too, as the server's do) in the same run.
 * Reports MB/s (of uncompressed log) and peak RSS (VmHWM, read every 20 ms) of each, and checks
 * that jq's counts equal ours. Goal: faster than jq, peak RSS under 200 MB.
 *
 *   npm run bench:analyze                 # 1000 MB
 *   npm run bench:analyze -- --mb 200
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createGzip } from 'node:zlib'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { benchFlags } from './bench-flags.js'
import { formatTable, machineLine, mb } from './chat-load.js'

const { mb: sizeMb, files: fileCount } = benchFlags('bench:analyze', {
  mb: { default: 1000, kind: 'count', meaning: 'MB of log to generate' },
  files: { default: 8, kind: 'count', meaning: 'chatbot files (the older half gzipped)' }
})
const CLI = fileURLToPath(new URL('../src/cli/analyze.js', import.meta.url))
const DAY = 86_400_000
const FINGERPRINTS = Array.from({ length: 25 }, (_, i) => i.toString(16).padStart(16, 'a'))
const QUESTIONS = ['how do I view traces?', 'what is the capital of Mongolia?', 'how do I add an admin API key?', 'where are the logs?', 'who won the world cup?']
const KINDS = ['answer', 'answer', 'answer', 'no_answer', 'command']

/** One chat turn's lines as the server writes them (shapes copied from a real chatbot.log). */
function turnLines (time: string, n: number): string {
  const base = `"service":"parley","version":"0.1.0","env":"production","req_id":"req-${n}","user_id":"u_${(n % 997).toString(16).padStart(16, '0')}"`
  const kind = KINDS[n % KINDS.length]!
  const session = `00000000-0000-4000-8000-${(n % 50_000).toString().padStart(12, '0')}`
  return `{"level":"info","time":"${time}",${base},"module":"chat","fn":"handleTurn","input":"question","length":21,"text":"${QUESTIONS[n % QUESTIONS.length]}","msg":"chat.message_received"}\n` +
    `{"level":"info","time":"${time}",${base},"session_id":"${session}","module":"chat","fn":"handleTurn","kind":"${kind}","sources":3,"top_score":3.8277,"results":3,"top_doc_id":"tracing-and-logs","search_ms":1.47,"latency_ms":${(n % 40) + 3},"msg":"chat.reply_sent"}\n` +
    `{"level":"info","time":"${time}",${base},"session_id":"${session}","module":"http","fn":"onResponse","method":"POST","route":"/v1/chat","status":200,"duration_ms":${(n % 40) + 4},"res_bytes":812,"msg":"request completed"}\n`
}

function errorLine (time: string, n: number): string {
  const fingerprint = FINGERPRINTS[(n * 7) % FINGERPRINTS.length]!
  return `{"level":"error","time":"${time}","service":"parley","version":"0.1.0","env":"production","req_id":"req-${n}","module":"error_handler","fn":"onError","error_type":"TypeError","error_message":"Cannot read properties of undefined (reading '<n>')","fingerprint":"${fingerprint}","frame":"src/chat/chat-service.ts","stack":"TypeError: Cannot read properties of undefined\\n    at handleTurn (src/chat/chat-service.ts:120:5)","msg":"unhandled TypeError: Cannot read properties of undefined"}\n`
}

/** Writes a file of about `bytes` of turns (one error every 50 turns, to error.log as well). */
async function writeDay (dir: string, date: Date, number: number, bytes: number, gzip: boolean, firstTurn: number, errors: string[]): Promise<{ turns: number, bytes: number }> {
  const day = date.toISOString().slice(0, 10)
  let written = 0
  let n = firstTurn
  const lines = function * (): Generator<string> {
    while (written < bytes) {
      let chunk = ''
      for (let i = 0; i < 500; i++, n++) {
        const time = new Date(date.getTime() + (n % 86_000) * 1000).toISOString()
        chunk += turnLines(time, n)
        if (n % 50 === 0) {
          const line = errorLine(time, n)
          chunk += line
          errors.push(line)
        }
      }
      written += chunk.length
      yield chunk
    }
  }
  const path = join(dir, `chatbot.${day}.${number}.log${gzip ? '.gz' : ''}`)
  await (gzip ? pipeline(Readable.from(lines()), createGzip({ level: 1 }), createWriteStream(path)) : pipeline(Readable.from(lines()), createWriteStream(path)))
  return { turns: n, bytes: written }
}

interface Run { tool: string, task: string, seconds: number, peakRss: number, output: string }

/** Runs a process to the end, reading its VmHWM (peak RSS) every 20 ms. */
async function measured (tool: string, task: string, start: () => ChildProcess, watch?: () => ChildProcess): Promise<Run> {
  const started = performance.now()
  const child = start()
  const watched = watch?.() ?? child
  let peakRss = 0
  const poll = setInterval(() => {
    readFile(`/proc/${watched.pid}/status`, 'utf8').then(status => { peakRss = Math.max(peakRss, Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024) }, () => {})
  }, 20)
  let output = ''
  watched.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const code = await new Promise<number | null>(resolve => watched.once('exit', resolve))
  clearInterval(poll)
  if (code !== 0 && code !== 1) throw new Error(`${tool} ${task} exited with ${code}`)
  return { tool, task, seconds: (performance.now() - started) / 1000, peakRss, output }
}

const machine = machineLine()
const dir = await mkdtemp(join(os.tmpdir(), 'parley-bench-analyze-'))
try {
  process.stderr.write(`generating ${sizeMb} MB of logs in ${dir}…\n`)
  const end = new Date(Math.floor(Date.now() / DAY) * DAY)
  const errors: string[] = []
  let n = 0
  let written = 0
  const perFile = sizeMb * 1e6 / fileCount
  for (let i = 0; i < fileCount; i++) {
    const date = new Date(end.getTime() - (fileCount - i) * DAY)
    const file = await writeDay(dir, date, 1, perFile, i < fileCount / 2, n, errors)
    n = file.turns
    written += file.bytes
  }
  // error.log holds the error lines again, one file a day like the server's.
  const byDay = new Map<string, string[]>()
  for (const line of errors) {
    const day = /"time":"(\d{4}-\d{2}-\d{2})/.exec(line)![1]!
    if (!byDay.has(day)) byDay.set(day, [])
    byDay.get(day)!.push(line)
  }
  for (const [day, lines] of byDay) {
    const path = join(dir, `error.${day}.1.log`)
    await pipeline(Readable.from(lines), createWriteStream(path))
  }
  const names = await readdir(dir)
  let onDisk = 0
  for (const name of names) onDisk += (await stat(join(dir, name))).size
  const errorBytes = errors.reduce((sum, line) => sum + line.length, 0)
  // Generated lines are ASCII: characters are bytes.
  const chatbotBytes = written
  const chatbotFiles = names.filter(name => name.startsWith('chatbot.')).sort().map(name => join(dir, name))
  const from = new Date(end.getTime() - (fileCount + 1) * DAY).toISOString()
  const to = new Date(end.getTime() + DAY).toISOString()

  const ours = (task: string) => measured('parley analyze', task, () => spawn(process.execPath, [CLI, task, '--dir', dir, '--from', from, '--to', to, '--format', 'json'], { stdio: ['ignore', 'pipe', 'inherit'] }))
  const jqProgram = 'reduce (inputs | select(.level == "error" or .level == "fatal") | (.fingerprint // "none")) as $f ({}; .[$f] += 1)'
  const jq = async (): Promise<Run> => {
    let cat: ChildProcess | undefined
    return await measured('jq 1.6', 'errors', () => (cat = spawn('zcat', ['-f', ...chatbotFiles], { stdio: ['ignore', 'pipe', 'inherit'] })), () => {
      const child = spawn('jq', ['-n', '-c', jqProgram], { stdio: ['pipe', 'pipe', 'inherit'] })
      cat!.stdout!.pipe(child.stdin!)
      return child
    })
  }
  process.stderr.write('ours: errors…\n')
  const oursErrors = await ours('errors')
  process.stderr.write('ours: usage…\n')
  const oursUsage = await ours('usage')
  process.stderr.write('jq: errors…\n')
  const jqErrors = await jq()

  const ourCounts = Object.fromEntries((JSON.parse(oursErrors.output) as { patterns: Array<{ fingerprint: string, count: number }> }).patterns.map(p => [p.fingerprint, p.count]))
  const jqCounts = JSON.parse(jqErrors.output) as Record<string, number>
  const agree = JSON.stringify(Object.entries(ourCounts).sort()) === JSON.stringify(Object.entries(jqCounts).sort())
  const usageTurns = (JSON.parse(oursUsage.output) as { turns: number }).turns

  console.log(`\nParley bench:analyze: ${machine}`)
  console.log(`${names.length} files, ${mb(onDisk)} MB on disk (${Math.ceil(fileCount / 2)} of ${fileCount} chatbot files gzipped), ${mb(chatbotBytes + errorBytes)} MB of log lines; ${errors.length.toLocaleString('en-US')} errors in ${FINGERPRINTS.length} patterns, ${n.toLocaleString('en-US')} turns\n`)
  const rate = (bytes: number, run: Run): string => (bytes / 1e6 / run.seconds).toFixed(0)
  const rows = [['tool', 'task', 'reads', 'MB of lines', 'seconds', 'MB/s', 'peak RSS MB']]
  // errors reads error.log, and chatbot.log for the routes of the failed requests.
  rows.push(['parley analyze', 'errors', 'error + chatbot files', mb(chatbotBytes + errorBytes), oursErrors.seconds.toFixed(2), rate(chatbotBytes + errorBytes, oursErrors), mb(oursErrors.peakRss)])
  rows.push(['parley analyze', 'usage', 'chatbot files', mb(chatbotBytes), oursUsage.seconds.toFixed(2), rate(chatbotBytes, oursUsage), mb(oursUsage.peakRss)])
  rows.push(['zcat -f | jq 1.6', 'fingerprint counts', 'chatbot files', mb(chatbotBytes), jqErrors.seconds.toFixed(2), rate(chatbotBytes, jqErrors), mb(jqErrors.peakRss)])
  for (const line of formatTable(rows)) console.log(line)
  console.log(`\nfingerprint counts: ours and jq's ${agree ? 'agree' : 'DIFFER'}; usage counted ${usageTurns.toLocaleString('en-US')} turns of ${n.toLocaleString('en-US')} generated`)
  const peak = Math.max(oursErrors.peakRss, oursUsage.peakRss)
  const faster = Math.max(oursErrors.seconds, oursUsage.seconds) < jqErrors.seconds
  console.log(`goal: errors and usage each faster than jq (${(jqErrors.seconds / oursErrors.seconds).toFixed(1)}× and ${(jqErrors.seconds / oursUsage.seconds).toFixed(1)}×), peak RSS < 200 MB (${mb(peak)} MB): ${faster && peak < 200e6 ? 'met' : 'NOT met'}`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
