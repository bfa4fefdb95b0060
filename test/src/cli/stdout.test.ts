// Each command-line tool run as a user runs it, `npm run -s <script> -- … --format json` (and a
// bin through npx), with the whole of its stdout parsed as JSON: nothing else may be written there,
// no build line, no banner, no progress (that goes to stderr). The tools' own tests cover what the
// JSON says; this one covers the way to them.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { chainAuditLine, GENESIS } from '../../../src/logging/audit-chain.js'
import { projectRoot } from '../../../src/project.js'
import { migratedDataDir, tempDir } from '../../helper.js'

// The test runner's loader and variables would make the tools different programs.
const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !/^_?TAP/.test(name)))

async function run (command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(command, args, { cwd: projectRoot, env: { ...environment, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

t.test('every CLI\'s stdout with --format json is one JSON document', async t => {
  const root = await tempDir(t)
  const env = { DATA_DIR: await migratedDataDir(t), LOG_DIR: join(root, 'logs') }
  await mkdir(env.LOG_DIR)
  await writeFile(join(root, 'faq.jsonl'), `${JSON.stringify({ id: 'refunds', title: 'How do I get a refund?', text: 'Refunds are paid within 14 days.' })}\n`)
  await writeFile(join(root, 'questions.jsonl'), `${JSON.stringify({ question: 'how do I get a refund?', expected: 'refunds' })}\n`)
  const day = new Date().toISOString().slice(0, 10)
  const chained = chainAuditLine(JSON.stringify({ level: 'audit', time: new Date().toISOString(), actor: 'kb:import', action: 'kb.put', target: 'refunds', result: 'ok', msg: 'admin action' }), GENESIS)
  await writeFile(join(env.LOG_DIR, `audit.${day}.1.log`), `${chained.line}\n`)
  await writeFile(join(env.LOG_DIR, `chatbot.${day}.1.log`), `${JSON.stringify({ level: 30, time: Date.now(), msg: 'chat.reply_sent', module: 'chat', kind: 'answer', session_id: 's1', user_id: 'u_0123456789abcdef' })}\n`)
  await writeFile(join(env.LOG_DIR, `error.${day}.1.log`), `${JSON.stringify({ level: 50, time: Date.now(), msg: 'chat.turn_failed', module: 'chat', error_type: 'Error', error_message: 'boom', fingerprint: 'f1' })}\n`)

  const runs: Array<[string, string[], number]> = [
    ['npm', ['run', '-s', 'kb:import', '--', '--format', 'json', join(root, 'faq.jsonl')], 0],
    ['npm', ['run', '-s', 'kb:evaluate', '--', '--format', 'json', join(root, 'questions.jsonl')], 0],
    ['npm', ['run', '-s', 'analyze', '--', 'usage', '--format', 'json'], 0],
    ['npm', ['run', '-s', 'analyze', '--', 'errors', '--format', 'json'], 0],
    ['npm', ['run', '-s', 'audit:verify', '--', '--format', 'json'], 0],
    ['npm', ['run', '-s', 'erase', '--', '--user', 'nobody-here', '--format', 'json'], 0],
    ['npx', ['parley-analyze', 'usage', '--format', 'json'], 0]
  ]
  for (const [command, args, expected] of runs) {
    const { code, stdout, stderr } = await run(command, args, env)
    const name = `${command} ${args.slice(0, 4).join(' ')}`
    t.equal(code, expected, `${name} exits ${expected}${code === expected ? '' : `: ${stderr}`}`)
    t.doesNotThrow(() => JSON.parse(stdout), `${name}: stdout is JSON, whole (${stdout.slice(0, 60).replaceAll('\n', ' ')}…)`)
  }
})

t.test('a reader that closes the pipe at once (| true) ends a CLI quietly, not with a stack trace', async t => {
  const root = await tempDir(t)
  for (const command of ['usage', 'errors']) {
    // `true` exits without reading: the report's write meets a closed pipe (EPIPE).
    const { stderr } = await run('bash', ['-c', `node dist/src/cli/analyze.js ${command} --format json --dir ${root} | true`])
    t.notMatch(stderr, /EPIPE|Error|at /, `analyze ${command}: nothing on stderr about the pipe`)
  }
})
