// How accurately the knowledge base answers the team's test questions: the latest run's (or the
// chosen one's, ?run=) counts and accuracy, its question-by-question table, and the trend of past
// runs; an admin can run the saved question set from here. The runs are made by POST
// /v1/kb/evaluations, `npm run kb:evaluate` and the button below.
import { useState } from 'preact/hooks'
import type { ConsoleSession } from '../../src/console/console-schemas.js'
import type { Outcome } from '../../src/evaluation/evaluation-schemas.js'
import { errorText } from '../shared/problem.js'
import { useLoad } from '../shared/use-load.js'
import { consoleApi } from './api.js'
import { dateTime, percent } from './format.js'
import { Tile } from './overview.js'
import { hashFor, type Route } from './route.js'
import { navigate } from './use-route.js'

const OUTCOME_TEXT: Record<Outcome, string> = {
  answered_right: 'answered right',
  wrong_document: 'wrong document',
  refused_but_answerable: 'refused, answerable',
  out_of_scope_refused: 'refused, out of scope'
}

/** Accuracy's change against the last run of the same questions, in points. */
const change = (now: number, before: number | null): string => {
  if (before === null) return 'first run of these questions'
  const points = (now - before) * 100
  return Math.abs(points) < 0.05
    ? 'same as the last run of these questions'
    : `${points > 0 ? '+' : '−'}${Math.abs(points).toFixed(1)} pts on the last run of these questions`
}

const EMPTY_SET_NOTE = 'The saved test set is empty: add unanswered questions from a conversation ' +
  '("Add to test set"), or run a file with npm run kb:evaluate.'

export function AccuracyView ({ route, session }: { route: Route, session: ConsoleSession }) {
  const chosen = route.params.get('run') ?? undefined
  // The runs and the one shown (the chosen, or else the latest) as one answer: a report never
  // sits beside the runs of another moment.
  const shown = useLoad(async () => {
    const { runs } = await consoleApi.evaluationRuns()
    const id = chosen ?? runs[0]?.id
    return { runs, report: id === undefined ? null : await consoleApi.evaluationRun(id) }
  }, [chosen])
  const saved = useLoad(async () => (await consoleApi.savedQuestions()).questions.length, [])
  const [running, setRunning] = useState(false)
  const [runError, setRunError] = useState<string>()
  const runs = shown.data?.runs
  const report = shown.data?.report
  const error = runError ?? shown.error ?? saved.error

  const runSavedSet = async (): Promise<void> => {
    setRunning(true)
    setRunError(undefined)
    try {
      await consoleApi.runEvaluation()
      // The new run is the latest: the view without a chosen run shows it, the runs before it beneath.
      if (chosen !== undefined) navigate(hashFor('accuracy'))
      else await shown.reload()
    } catch (caught) {
      setRunError(errorText(caught))
    } finally {
      setRunning(false)
    }
  }

  const setSize = saved.data === undefined ? '' : ` (${saved.data} question${saved.data === 1 ? '' : 's'})`
  return (
    <section class='accuracy'>
      <div class='overview-header'>
        <h1>Accuracy</h1>
        {session.role === 'admin' && (
          <button
            type='button' disabled={running || saved.data === 0}
            onClick={() => { runSavedSet().catch(() => undefined) }}
          >
            {running ? 'Running…' : `Run the saved test set${setSize}`}
          </button>
        )}
      </div>
      <p class='muted'>
        Test questions run against the knowledge base as a chat turn decides them. Accuracy counts right
        answers and right refusals of all questions. {saved.data === 0 ? EMPTY_SET_NOTE : ''}
      </p>
      {error !== undefined && <p class='error' role='alert'>{error}</p>}
      {report === undefined && error === undefined && <p class='muted'>Loading…</p>}
      {report === null && <p class='muted'>No run yet.</p>}
      {report !== undefined && report !== null && (
        <>
          <p class='muted'>
            Run of {dateTime(report.started_at)} by {report.actor}: {
              report.question_set === 'saved' ? 'the saved test set' : 'questions sent with the run'
            }, against {report.documents} documents
          </p>
          <div class='tiles'>
            <Tile
              label='Accuracy' value={percent(report.accuracy)}
              note={change(report.accuracy, report.previous_accuracy)}
            />
            <Tile label='Answer rate (answerable)' value={percent(report.answer_rate)} />
            <Tile label='Answered right' value={String(report.counts.answered_right)} />
            <Tile label='Wrong document' value={String(report.counts.wrong_document)} />
            <Tile label='Refused, answerable' value={String(report.counts.refused_but_answerable)} />
            <Tile label='Refused, out of scope' value={String(report.counts.out_of_scope_refused)} />
            <Tile label='Questions' value={String(report.questions)} />
          </div>
          <h2>Question by question</h2>
          <table class='results'>
            <thead>
              <tr>
                <th>Outcome</th>
                <th>Question</th>
                <th>Expected</th>
                <th>Reply</th>
                <th class='number'>Confidence</th>
              </tr>
            </thead>
            <tbody>
              {report.results.map((row, i) => (
                <tr key={i} class={`outcome-${row.outcome}`}>
                  <td class='nowrap'>
                    <span class={`outcome outcome-${row.outcome}`}>{OUTCOME_TEXT[row.outcome]}</span>
                  </td>
                  <td>{row.question}</td>
                  <td class='mono'>{row.expected.length === 0 ? 'none' : row.expected.join(', ')}</td>
                  <td class='nowrap'>
                    {row.kind === 'answer'
                      ? <span class='mono'>{row.doc_id}</span>
                      : <span class='muted'>{row.kind}{row.doc_id !== null ? ` (nearest ${row.doc_id})` : ''}</span>}
                  </td>
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
            <thead>
              <tr>
                <th>Started</th>
                <th>By</th>
                <th>Set</th>
                <th class='number'>Questions</th>
                <th class='number'>Accuracy</th>
                <th class='number'>Right</th>
                <th class='number'>Wrong doc.</th>
                <th class='number'>Refused, answerable</th>
                <th class='number'>Refused, out of scope</th>
              </tr>
            </thead>
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
