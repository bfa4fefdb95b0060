// The weekly report's line on the knowledge base's accuracy: the last run of the test questions in
// each week, from the kb.evaluation_completed lines the server logs (src/evaluation/kb-evaluations.ts).
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { weeklyReport } from '../../../src/analysis/weekly-report.js'
import { weeklyMarkdown } from '../../../src/analysis/weekly-render.js'
import { tempDir } from '../../helper.js'

const TO = new Date('2026-11-23T08:00:00Z') // a Monday: the week is 16 to 22 November
const run = (time: string, accuracy: number, digest?: string) => JSON.stringify({ level: 'info', time, module: 'evaluation', fn: 'run', run_id: 'r', questions_digest: digest, questions: 20, accuracy, msg: 'kb.evaluation_completed' })

async function logs (t: Parameters<typeof tempDir>[0], lines: Record<string, string[]>): Promise<string> {
  const dir = await tempDir(t)
  for (const [day, dayLines] of Object.entries(lines)) await writeFile(join(dir, `chatbot.${day}.1.log`), dayLines.join('\n') + '\n')
  return dir
}

t.test('the week\'s last run against the week before\'s, with the change in points', async t => {
  const dir = await logs(t, {
    '2026-11-10': [run('2026-11-10T09:00:00.000Z', 0.8), run('2026-11-12T09:00:00.000Z', 0.9)],
    '2026-11-18': [run('2026-11-18T09:00:00.000Z', 0.95), run('2026-11-21T17:30:00.000Z', 0.75)],
    '2026-11-23': [run('2026-11-23T07:00:00.000Z', 0.1)]
  })
  const report = await weeklyReport({ dir, to: TO })
  t.equal(report.this_week.kb_accuracy, 0.75, 'the last run of the week, not the best')
  t.equal(report.last_week.kb_accuracy, 0.9)
  t.match(weeklyMarkdown(report), '| Accuracy on the test questions (last run) | 75.0 % | 90.0 % | −15.0 pts |')
})

t.test('last week\'s figure is its last run of the questions this week\'s last run asked', async t => {
  const dir = await logs(t, {
    '2026-11-10': [run('2026-11-10T09:00:00.000Z', 0.8, 'saved-set'), run('2026-11-12T09:00:00.000Z', 0.4, 'a-hard-file')],
    '2026-11-18': [run('2026-11-18T09:00:00.000Z', 0.3, 'a-hard-file'), run('2026-11-21T17:30:00.000Z', 0.85, 'saved-set')]
  })
  const report = await weeklyReport({ dir, to: TO })
  t.equal(report.this_week.kb_accuracy, 0.85)
  t.equal(report.last_week.kb_accuracy, 0.8, 'not the 0.4 of other questions run after it')
  const unmatched = await weeklyReport({ dir: await logs(t, { '2026-11-10': [run('2026-11-10T09:00:00.000Z', 0.8, 'other')], '2026-11-18': [run('2026-11-18T09:00:00.000Z', 0.9, 'saved-set')] }), to: TO })
  t.equal(unmatched.last_week.kb_accuracy, undefined, 'no run of the same questions last week: nothing to compare with')
  t.match(weeklyMarkdown(unmatched), '| Accuracy on the test questions (last run) | 90.0 % |')
})

t.test('a team that runs no test questions has no such line', async t => {
  const dir = await logs(t, { '2026-11-18': [JSON.stringify({ level: 'info', time: '2026-11-18T09:00:00.000Z', module: 'chat', msg: 'chat.reply_sent', kind: 'answer' })] })
  const report = await weeklyReport({ dir, to: TO })
  t.equal(report.this_week.kb_accuracy, undefined)
  t.notMatch(weeklyMarkdown(report), 'Accuracy on the test questions')
})
