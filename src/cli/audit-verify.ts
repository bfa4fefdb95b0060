#!/usr/bin/env node
// `npm run audit:verify -- <audit file | log dir>...`: checks the audit log's hash chain across
// rotated and compressed files and names the first broken entry. It only reads, so it can run
// beside the server; a last line caught while the server was writing it reads as truncated, so a
// break on the active file's last line is worth a second run before anything else.
import { isAbsolute, relative, resolve } from 'node:path'
import { AuditPathError, verifyAuditChain, type AuditChainReport } from '../logging/audit-chain.js'
import { isEntryPoint, runAsProgram, type Io } from './entry-point.js'

const USAGE = 'Usage: npm run audit:verify -- [--format text|json] [<audit file | log dir>...]   ' +
  '(default: $LOG_DIR, else ./logs)'

const count = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`

function describeStart (report: AuditChainReport): string {
  const { start, end } = report
  if (start === null || end === null) return ''
  const origin = start.genesis ? '(genesis)' : '(not the genesis: the entries before it are not in these files)'
  return `from seq ${start.seq} ${origin} to seq ${end.seq}`
}

/** The report in words; `show` turns a file's path into the one printed. */
export function formatReport (report: AuditChainReport, show: (path: string) => string = path => path): string {
  const { break: broken } = report
  if (broken === null) {
    const files = count(report.filesChecked, 'file', 'files')
    if (report.entriesChecked === 0) return `audit chain intact: no entries in ${files}`
    const entries = count(report.entriesChecked, 'entry', 'entries')
    return `audit chain intact: ${entries} in ${files}, ${describeStart(report)}`
  }
  const seq = broken.seq === null ? '' : ` (seq ${broken.seq})`
  const lines = [`audit chain BROKEN at ${show(broken.file)} line ${broken.line}${seq}: ${broken.reason}`]
  if (report.entriesChecked > 0) {
    const intact = report.entriesChecked === 1
      ? 'the entry before it is intact'
      : `the ${report.entriesChecked.toLocaleString('en-US')} entries before it are intact`
    lines.push(`${intact}, ${describeStart(report)}`)
  }
  return lines.join('\n')
}

/** Runs the command; resolves to the exit code: 0 intact, 1 broken, 2 usage error or unreadable path. */
export async function main (
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io = process
): Promise<number> {
  const say = (text: string) => { io.stdout.write(`${text}\n`) }
  const fail = (text: string) => { io.stderr.write(`audit:verify: ${text}\n`); return 2 }

  let json = false
  const given: string[] = []
  let optionsEnded = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (optionsEnded || !arg.startsWith('-')) {
      given.push(arg)
    } else if (arg === '--') {
      optionsEnded = true
    } else if (arg === '--json') {
      // The older spelling of --format json, still taken.
      json = true
    } else if (arg === '--format' || arg.startsWith('--format=')) {
      const format = arg === '--format' ? argv[++i] : arg.slice('--format='.length)
      if (format !== 'text' && format !== 'json') {
        return fail(`--format must be text or json, not ${JSON.stringify(format ?? '')}.`)
      }
      json = format === 'json'
    } else if (arg === '--help' || arg === '-h') {
      say(USAGE)
      return 0
    } else {
      return fail(`unknown option ${arg}. ${USAGE}`)
    }
  }

  // npm runs scripts in the project folder; INIT_CWD is where the user typed the paths.
  const base = env.INIT_CWD ?? process.cwd()
  let paths = given.map(path => resolve(base, path))
  if (paths.length === 0) {
    const logDir = env.LOG_DIR ?? './logs'
    if (logDir === '') {
      return fail(`LOG_DIR is empty (logs go to stdout only), so name the audit files or log directory. ${USAGE}`)
    }
    // Relative to the project folder, like the server that writes there.
    paths = [resolve(logDir)]
  }

  let report: AuditChainReport
  try {
    report = await verifyAuditChain(paths)
  } catch (error) {
    // Anything but a verdict must not exit with 1, which scripts and alerts take for "broken".
    if (!(error instanceof AuditPathError)) return fail(`could not check the chain: ${(error as Error).message}`)
    return fail(error.message)
  }

  if (json) {
    say(JSON.stringify(report, null, 2))
  } else {
    const show = (path: string) => {
      const shorter = relative(base, path)
      return shorter === '' || shorter.startsWith('..') || isAbsolute(shorter) ? path : shorter
    }
    say(formatReport(report, show))
  }
  return report.intact ? 0 : 1
}

if (isEntryPoint(import.meta.url)) await runAsProgram(main)
