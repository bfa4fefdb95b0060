// The weekly report made by the app: on its cron schedule into REPORTS_DIR, and e-mailed through a
// real SMTP server started by the test.
import t from 'tap'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildTestApp, tempDir, waitFor } from '../helper.js'

// The report covers the whole days before the clock's day: a clock in tomorrow has today's lines.
const tomorrow = (): Date => new Date(Date.now() + 86_400_000)
import { smtpServer } from '../receivers.js'

// Two turns in the shapes the server logs them.
async function logsOfToday (dir: string): Promise<void> {
  const time = new Date(Date.now() - 60_000).toISOString()
  const lines = ['answer', 'no_answer'].map((kind, i) => JSON.stringify({ level: 'info', time, module: 'chat', fn: 'handleTurn', req_id: `r${i}`, session_id: 's1', user_id: 'u_1', kind, sources: 1, latency_ms: 12, msg: 'chat.reply_sent' }))
  await writeFile(join(dir, `chatbot.${time.slice(0, 10)}.1.log`), lines.join('\n') + '\n')
}

t.test('sendWeeklyReport writes the report and mails it: HTML body, Markdown attached', async t => {
  const logs = await tempDir(t)
  const reports = await tempDir(t)
  await logsOfToday(logs)
  const smtp = await smtpServer(t)
  const app = await buildTestApp(t, { LOG_DIR: logs, REPORTS_DIR: reports, SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.settings().SMTP_PORT), REPORT_RECIPIENTS: 'owner@example.com, content@example.com' }, { clock: tomorrow })
  const files = await app.sendWeeklyReport()
  t.same((await readdir(reports)).sort(), [files.html, files.markdown].map(file => file.slice(reports.length + 1)).sort())
  t.equal(smtp.mails.length, 1)
  const mail = smtp.mails[0]!
  t.same(mail.to, ['owner@example.com', 'content@example.com'])
  t.match(mail.message, /Subject: Parley weekly report, \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/)
  t.match(mail.message, /Content-Type: text\/html/)
  t.match(mail.message, /<div class="n">2<\/div>/, 'the HTML report is the body: two turns')
  t.match(mail.message, /filename=parley-weekly-\d{4}-\d{2}-\d{2}\.md/, 'the Markdown attached')
})

t.test('the schedule runs it by itself', async t => {
  const logs = await tempDir(t)
  const reports = await tempDir(t)
  await logsOfToday(logs)
  const app = await buildTestApp(t, { LOG_DIR: logs, REPORTS_DIR: reports, REPORT_SCHEDULE: '* * * * * *' }, { clock: tomorrow }) // every second
  await app.ready()
  // Each file is written under a .partial name, then renamed: the two are done once both have their own names.
  const written = (names: string[]): string[] => names.filter(name => /^parley-weekly-\d{4}-\d{2}-\d{2}\.(md|html)$/.test(name))
  let names: string[] = []
  await waitFor(async () => written(names = await readdir(reports)).length >= 2, 5_000, 100)
  t.equal(written(names).length, 2, `written on schedule: ${names.join(', ')}`)
})

t.test('a schedule that is not a cron pattern stops the start with the reason', async t => {
  await t.rejects(buildTestApp(t, { REPORT_SCHEDULE: 'every monday' }), { message: /REPORT_SCHEDULE "every monday" is not a cron pattern/ })
})
