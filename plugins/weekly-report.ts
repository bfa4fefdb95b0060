// The weekly report arrives without anyone asking: on REPORT_SCHEDULE (cron, local time; Monday
// 08:00 by default) it is made from the log files into REPORTS_DIR and, when SMTP is set up,
// e-mailed to REPORT_RECIPIENTS with the HTML as the body and the Markdown attached.
import fp from 'fastify-plugin'
import { Cron } from 'croner'
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { weeklyReport } from '../src/analysis/weekly-report.js'
import { saveWeeklyReport } from '../src/analysis/weekly-render.js'
import { addresses, createSmtpTransport } from '../src/mail/smtp.js'
import { log } from '../src/logging/log-context.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Makes (and mails) the weekly report now; resolves to the files written. The schedule calls it. */
    sendWeeklyReport: () => Promise<{ markdown: string, html: string }>
  }
}

export default fp(async function weeklyReportPlugin (app) {
  const config = app.config
  const recipients = addresses(config.REPORT_RECIPIENTS)
  const mail = config.SMTP_HOST !== '' && recipients.length > 0 ? createSmtpTransport(config, 30_000) : undefined
  const logDir = config.LOG_DIR === '' ? undefined : resolve(config.LOG_DIR)

  app.decorate('sendWeeklyReport', async () => {
    if (logDir === undefined) throw new Error('the weekly report is made from the log files, and LOG_DIR is empty')
    const report = await weeklyReport({ dir: logDir, to: app.clock() })
    const files = await saveWeeklyReport(report, resolve(config.REPORTS_DIR))
    log('reports', 'weekly', app.log).info({ files, turns: report.this_week.turns }, 'weekly report written')
    if (mail !== undefined) {
      await mail.sendMail({
        from: config.ALERTS_EMAIL_FROM,
        to: recipients,
        subject: `Parley weekly report, ${report.this_week.from.slice(0, 10)} to ${report.this_week.to.slice(0, 10)}`,
        html: await readFile(files.html, 'utf8'),
        attachments: [{ filename: basename(files.markdown), path: files.markdown }]
      })
      log('reports', 'weekly', app.log).info({ recipients: recipients.length }, 'weekly report e-mailed')
    }
    return files
  })

  if (config.REPORT_SCHEDULE === '' || logDir === undefined) return
  let job: Cron
  try {
    job = new Cron(config.REPORT_SCHEDULE, {
      paused: true,
      protect: true,
      catch: error => log('reports', 'weekly', app.log)
        .error({ err: error }, 'the weekly report failed; the next one is on schedule')
    }, async () => { await app.sendWeeklyReport() })
  } catch (error) {
    throw new Error(`REPORT_SCHEDULE "${config.REPORT_SCHEDULE}" is not a cron pattern ` +
      `(minute hour day month weekday, e.g. "0 8 * * 1"): ${(error as Error).message}`)
  }
  app.addHook('onReady', async () => {
    job.resume()
    log('reports', 'schedule', app.log).info({ next: job.nextRun()?.toISOString() }, 'weekly report scheduled')
  })
  app.addHook('preClose', async () => { job.stop() })
}, { name: 'weekly-report', dependencies: ['config'] })
