// One scripted workload, three readers: the analytics API (from the database), `npm run analyze --
// usage` and the weekly report (from the log files) must give the same figures. They disagreed: a
// turn rated up then down counted once in the API and twice in the CLI, and unknown commands were
// the words typed in one and '(unknown)' in the other.
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { weeklyReport } from '../../../src/analysis/weekly-report.js'
import { main as analyze } from '../../../src/cli/analyze.js'
import { tempDir } from '../../helper.js'
import { startServer } from '../../server-process.js'

const ANALYST = 'figures-analyst-key-0123456789'

t.test('the API, the CLI and the weekly report agree on turns, kinds, commands, answer rate and feedback', async t => {
  const logDir = join(await tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, API_KEYS: `${ANALYST}:analyst` })
  const chat = async (body: Record<string, string>): Promise<{ session_id: string, kind: string }> => {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    t.equal(response.status, 200)
    return await response.json() as { session_id: string, kind: string }
  }
  const first = await chat({ message: 'how do I view traces?', user_id: 'u1' })
  const session = { session_id: first.session_id }
  await chat({ message: '/feedback up', ...session })
  await chat({ message: '/feedback down too slow', ...session }) // replaces the rating: one down
  await chat({ message: '/serch traces', ...session })
  await chat({ message: '/unknowncmd', ...session })
  await chat({ message: 'what is the capital of Mongolia?', ...session })
  const second = await chat({ message: 'how long does an idle session last?', user_id: 'u2' })
  await chat({ message: '/feedback up', session_id: second.session_id })
  await chat({ message: '/help', session_id: second.session_id })

  const api = await (await fetch(`${server.base}/v1/analytics/usage`, { headers: { authorization: `Bearer ${ANALYST}` } })).json() as Record<string, unknown>
  t.equal(await server.stop(), 0)

  const stdout = new PassThrough()
  let cliText = ''
  stdout.on('data', chunk => { cliText += String(chunk) })
  t.equal(await analyze(['usage', '--dir', logDir, '--format', 'json'], {}, { stdout, stderr: new PassThrough() }), 0)
  const cli = JSON.parse(cliText) as Record<string, unknown>
  const weekly = (await weeklyReport({ dir: logDir, to: new Date(Date.now() + 86_400_000) })).this_week // the week to tonight: today included

  t.match(api, { turns: 9, feedback: { up: 1, down: 1 }, commands: { feedback: 3, '(unknown)': 2, help: 1 } }, 'the API: the latest rating of each turn')
  for (const field of ['turns', 'turns_by_kind', 'answer_rate', 'commands', 'feedback', 'sessions_active', 'active_users']) {
    t.same(cli[field], api[field], `the CLI's ${field} is the API's`)
  }
  t.same(weekly.feedback, api.feedback, 'the weekly report\'s feedback is the API\'s')
  t.equal(weekly.satisfaction, 0.5)
  t.equal(weekly.turns, api.turns)
  t.equal(weekly.answer_rate, api.answer_rate)
})
