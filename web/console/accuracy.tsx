// How accurately the knowledge base answers the team's test questions: the latest run's (or the
// chosen one's, ?run=) counts and accuracy, its question-by-question table, and the trend of past
// runs; an admin can run the saved question set from here. The runs are made by POST
// /v1/kb/evaluations, `npm run kb:evaluate` and the button below.
import { useEffect, useState } from 'preact/hooks'
import type { ConsoleSession } from '../../src/console/console-schemas.js'
import type { Outcome, RunReport, RunSummary } from '../../src/evaluation/evaluation-schemas.js'
import { errorText } from '../shared/api.js'
import { consoleApi } from './api.js'
import { dateTime, percent } from './format.js'
import type { OnUnauthorized } from './main.js'
import { Tile } from './overview.js'
import { hashFor, navigate, type Route } from './route.js'

const OUTCOME_TEXT: Record<Outcome, string> = {
  answered_right: 'answered right',
  wrong_document: 'wrong document',
  refused_but_answerable: 'refused, answerable',
  out_of_scope_refused: 'refused, out of scope'
}

/** Accuracy's change against the run before, in points. */
const change = (now: number, before: number | undefined): string | undefined => {
  if (before === undefined) return undefined
  const points = (now - before) * 100
  return Math.abs(points) < 0.05 ? 'same as the run before' : `${points > 0 ? '+' : '−'}${Math.abs(points).toFixed(1)} pts on the run before`
}

export function AccuracyView ({ route, session, unauthorized }: { route: Route, session: ConsoleSession, unauthorized: OnUnauthorized }) {
  const chosen = route.params.get('run') ?? undefined
  const [runs, setRuns] = useState<RunSummary[]>()
  const [report, setReport] = useState<RunReport | null>()
  const [saved, setSaved] = useState<number>()
  const [error, setError] = useState<string>()
  const [running, setRunning] = useState(false)
  const [reload, setReload] = useState(0)
  const failed = (caught: unknown): void => { if (!unauthorized(caught)) setError(errorText(caught)) }

  useEffect(() => {
    setError(undefined)
    consoleApi.evaluationRuns().then(page => {
      setRuns(page.runs)
      const id = chosen ?? page.runs[0]?.id
      if (id === undefined) setReport(null)
      else consoleApi.evaluationRun(id).then(setReport, failed)
    }, failed)
    consoleApi.savedQuestions().then(page => { setSaved(page.questions.length) }, failed)
  }, [chosen, reload])

  const runSavedSet = async (): Promise<void> => {
    setRunning(true)
    setError(undefined)
    try {
      const made = await consoleApi.runEvaluation()
      if (chosen !== undefined) navigate(hashFor('accuracy'))
      setReport(made)
      setReload(count => count + 1)
    } catch (caught) {
      failed(caught)
    } finally {
      setRunning(false)
    }
  }

  const index = report === undefined || report === null || runs === undefined ? -1 : runs.findIndex(run => run.id === report.id)
  const before = index < 0 ? undefined : runs![index + 1]
  return (
    <section class='accuracy'>
      <div class='overview-header'>
        <h1>Accuracy</h1>
        {session.role === 'admin' && (
          <button type='button' disabled={running || saved === 0} onClick={() => { runSavedSet().catch(() => undefined) }}>
            {running ? 'Running…' : `Run the saved test set${saved === undefined ? '' : ` (${saved} question${saved === 1 ? '' : 's'})`}`}
          </button>
        )}
      </div>
      <p class='muted'>Test questions run against the knowledge base as a chat turn decides them. Accuracy counts right answers and right refusals of all questions. {saved === 0 ? 'The saved test set is empty: add unanswered questions from a conversation ("Add to test set"), or run a file with npm run kb:evaluate.' : ''}</p>
      {error !== undefined && <p class='error' role='alert'>{error}</p>}
      {report === undefined && error === undefined && <p class='muted'>Loading…</p>}
      {report === null && <p class='muted'>No run yet.</p>}
      {report !== undefined && report !== null && (
        <>
          <p class='muted'>Run of {dateTime(report.started_at)} by {report.actor}: {report.question_set === 'saved' ? 'the saved test set' : 'questions sent with the run'}, against {report.documents} documents</p>
          <div class='tiles'>
            <Tile label='Accuracy' value={percent(report.accuracy)} note={change(report.accuracy, before?.accuracy)} />
            <Tile label='Answer rate (answerable)' value={percent(report.answer_rate)} />
            <Tile label='Answered right' value={String(report.counts.answered_right)} />
            <Tile label='Wrong document' value={String(report.counts.wrong_document)} />
            <Tile label='Refused, answerable' value={String(report.counts.refused_but_answerable)} />
            <Tile label='Refused, out of scope' value={String(report.counts.out_of_scope_refused)} />
            <Tile label='Questions' value={String(report.questions)} />
          </div>
          <h2>Question by question</h2>
          <table class='results'>
            <thead><tr><th>Outcome</th><th>Question</th><th>Expected</th><th>Reply</th><th class='number'>Confidence</th></tr></thead>
            <tbody>
              {report.results.map((row, i) => (
                <tr key={i} class={`outcome-${row.outcome}`}>
                  <td class='nowrap'><span class={`outcome outcome-${row.outcome}`}>{OUTCOME_TEXT[row.outcome]}</span></td>
                  <td>{row.question}</td>
                  <td class='mono'>{row.expected.length === 0 ? 'none' : row.expected.join(', ')}</td>
                  <td class='nowrap'>{row.kind === 'answer' ? <span class='mono'>{row.doc_id}</span> : <span class='muted'>{row.kind}{row.doc_id !== null ? ` (nearest ${row.doc_id})` : ''}</span>}</td>
                  <td class='number'>{row.confidence === null ? '—' : row.confidence.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {runs !== undefined && runs.length > 0 && (
        <>
          <h2>Runs</h2>
          <table class='runs'>
            <thead><tr><th>Started</th><th>By</th><th>Set</th><th class='number'>Questions</th><th class='number'>Accuracy</th><th class='number'>Right</th><th class='number'>Wrong doc.</th><th class='number'>Refused, answerable</th><th class='number'>Refused, out of scope</th></tr></thead>
            <tbody>
              {runs.map(run => (
                <tr key={run.id} aria-current={report !== null && report?.id === run.id ? 'true' : undefined}>
                  <td class='nowrap'><a href={hashFor('accuracy', { run: run.id })}>{dateTime(run.started_at)}</a></td>
                  <td>{run.actor}</td>
                  <td>{run.question_set}</td>
                  <td class='number'>{run.questions}</td>
                  <td class='number'>{percent(run.accuracy)}</td>
                  <td class='number'>{run.counts.answered_right}</td>
                  <td class='number'>{run.counts.wrong_document}</td>
                  <td class='number'>{run.counts.refused_but_answerable}</td>
                  <td class='number'>{run.counts.out_of_scope_refused}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}
