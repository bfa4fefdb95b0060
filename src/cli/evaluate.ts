#!/usr/bin/env node
// `npm run kb:evaluate -- [--url <server>] [--format text|json] [--min-accuracy 0.8] [questions.jsonl]`:
// runs test questions (the file's, or the saved set without one) against the knowledge base as the
// chat turn decides them, prints the report question by question and stores the run. Against the
// configured database, or with --url through a running server (the embedded database admits one
// process). --min-accuracy makes it fail below a floor, for a team's own CI.
import { readFile, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { AuditTrail } from '../audit/audit-trail.js'
import { EvaluationStore } from '../evaluation/evaluation-store.js'
import type { Outcome, RunReport } from '../evaluation/evaluation-schemas.js'
import { KbEvaluations } from '../evaluation/kb-evaluations.js'
import {
  parseQuestionLines, QuestionFileError, questionLineNumbers, type TestQuestion
} from '../evaluation/question-set.js'
import { answeringCollections, KnowledgeBase } from '../kb/knowledge-base.js'
import { answerWeightsFor } from '../search/answer-decision.js'
import { SearchEngine } from '../search/search-engine.js'
import { ProblemError } from '../errors.js'
import { adminEndpoint, CliError, openConfiguredDatabase } from './cli-targets.js'
import { argsProblem, isEntryPoint, runAsProgram, type Io } from './entry-point.js'

const USAGE = 'Usage: npm run kb:evaluate -- [--url <running server, e.g. http://127.0.0.1:3000>] ' +
  '[--format text|json] [--min-accuracy <0..1>] [questions.jsonl]\n' +
  'Each line of the file: {"question": "…", "expected": "<document id>" | ["<id>", …] | null | "none", ' +
  '"id"?: "<label>"}; without a file, the saved question set runs.\n' +
  'With --url, PARLEY_API_KEY must hold an admin key of that server. ' +
  'Exit codes: 0 done, 1 accuracy below --min-accuracy, 2 the run could not be made.'
// Who the audit trail names for a run made on the database directly: the operator at the console.
const AUDIT_ACTOR = 'kb:evaluate'
// 5,000 questions of 4,000 characters, in UTF-8, with their JSON around them.
const FILE_BYTES_MAX = 96 * 1024 * 1024

const OUTCOME_TEXT: Record<Outcome, string> = {
  answered_right: 'answered right',
  wrong_document: 'wrong document',
  refused_but_answerable: 'refused, answerable',
  out_of_scope_refused: 'refused, out of scope'
}

const percent = (value: number | null): string => value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`
const cut = (text: string, width: number): string => {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`
}

/** The report as a person reads it: a row per question, then the totals. */
export function formatReport (report: RunReport): string {
  const rows = report.results.map((row, i) => [
    String(i + 1),
    OUTCOME_TEXT[row.outcome],
    row.expected.length === 0 ? 'none' : row.expected.join(', '),
    row.kind === 'answer' ? row.doc_id ?? '' : row.kind === 'smalltalk' ? '(small talk)' : '(no answer)',
    row.confidence === null ? '' : row.confidence.toFixed(2),
    cut(`${row.id === null ? '' : `[${row.id}] `}${row.question}`, 70)
  ])
  const header = ['#', 'outcome', 'expected', 'answered from', 'conf.', 'question']
  const widths = header.map((title, column) =>
    Math.min(column === 5 ? 70 : 32, Math.max(title.length, ...rows.map(row => row[column]!.length))))
  const line = (cells: string[]): string => cells
    .map((cell, column) => column === cells.length - 1 ? cell : cut(cell, widths[column]!).padEnd(widths[column]!))
    .join('  ')
    .trimEnd()
  const { counts } = report
  const answerable = report.results.filter(row => row.expected.length > 0).length
  const questionSet = report.question_set === 'saved' ? 'the saved question set' : 'questions from the file'
  return [
    line(header),
    ...rows.map(line),
    '',
    `${report.questions} question${report.questions === 1 ? '' : 's'} against ` +
      `${report.documents} document${report.documents === 1 ? '' : 's'}: ` +
      `${counts.answered_right} answered right, ${counts.wrong_document} wrong document, ` +
      `${counts.refused_but_answerable} refused but answerable, ` +
      `${counts.out_of_scope_refused} out of scope and refused.`,
    `Accuracy ${percent(report.accuracy)} (answered right and out of scope refused, of all); ` +
      `answer rate ${percent(report.answer_rate)} of the ${answerable} answerable.`,
    // What a team can do about a refusal, where it reads the figure: new users' FAQs refused about half
    // of their everyday wordings, and the remedy is in the API and the console, not in this report.
    ...counts.refused_but_answerable === 0
      ? []
      : ['Refused but answerable: if your users word it so, add the wording to its document\'s metadata.questions ' +
        '(POST /v1/kb/documents/<id>/questions, or from the conversation in the console); test with other wordings.'],
    `Run ${report.id} stored (${questionSet}).`
  ].join('\n')
}

/** A question the knowledge base cannot run (it expects a document it does not hold), by its index. */
class QuestionRefused extends CliError {
  constructor (readonly index: number, readonly documentId: string, message: string) {
    super(message)
  }
}

/** The question a refusal's problem names, if it names one (`question_index`, `document_id`). */
function questionRefused (problem: Record<string, unknown>, message: string): QuestionRefused | undefined {
  const { question_index: index, document_id: documentId } = problem
  if (typeof index !== 'number' || typeof documentId !== 'string') return undefined
  return new QuestionRefused(index, documentId, message)
}

interface QuestionFile { questions: TestQuestion[], lines: number[] }

async function readQuestions (path: string): Promise<QuestionFile> {
  const info = await stat(path).catch(() => undefined)
  if (info === undefined || !info.isFile()) throw new CliError(`${path} is not a file. ${USAGE}`)
  if (info.size > FILE_BYTES_MAX) {
    throw new CliError(
      `${path} has ${info.size} bytes; a question file has at most ${FILE_BYTES_MAX} ` +
      '(5,000 questions of up to 4,000 characters).'
    )
  }
  try {
    const text = await readFile(path, 'utf8')
    return { questions: parseQuestionLines(text), lines: questionLineNumbers(text) }
  } catch (error) {
    if (error instanceof QuestionFileError) throw new CliError(`${path}: ${error.message}`)
    throw error
  }
}

type Runner = {
  description: string
  run: (questions: TestQuestion[] | undefined) => Promise<RunReport>
  close: () => Promise<void>
}

/** The configured database, its documents loaded into an index of this process's own. */
async function databaseRunner (env: Record<string, string | undefined>): Promise<Runner> {
  const { config, db, description } = await openConfiguredDatabase(env, {
    inMemory: 'holds no knowledge base; set DATA_DIR to the server\'s folder or DATABASE_URL, or use --url.',
    whenLocked: 'Run it through the server: --url <its address> with PARLEY_API_KEY.',
    whenMissing: 'set DATA_DIR to the server\'s folder or DATABASE_URL, or run it through the server: ' +
      '--url <its address> with PARLEY_API_KEY.'
  })
  const auditTrail = new AuditTrail({ db })
  const searchEngine = new SearchEngine({ wordVectors: config.SEARCH_WORD_VECTORS, spelling: config.SEARCH_SPELLING })
  try {
    await new KnowledgeBase({ db, searchEngine, auditTrail }).loadIndex()
  } catch (error) {
    await db.close()
    throw new CliError(`could not load the knowledge base: ${(error as Error).message}`)
  }
  const evaluations = new KbEvaluations({
    store: new EvaluationStore({ db, auditTrail }),
    searchEngine,
    collections: () => answeringCollections(searchEngine.collections(), config.KB_BUNDLED_DOCS),
    model: { ...answerWeightsFor(searchEngine), threshold: config.ANSWER_MIN_CONFIDENCE }
  })
  return {
    description,
    run: async questions => {
      try {
        return await evaluations.run(questions, AUDIT_ACTOR)
      } catch (error) {
        const { message } = error as Error
        throw (error instanceof ProblemError ? questionRefused(error.extensions, message) : undefined) ??
          new CliError(message)
      }
    },
    close: () => db.close()
  }
}

function serverRunner (url: string, env: Record<string, string | undefined>): Runner {
  const server = adminEndpoint(url, 'v1/kb/evaluations', env)
  return {
    description: `the server at ${server.endpoint.origin}`,
    run: async questions => {
      const asked = questions?.map(q => ({
        question: q.question,
        expected: q.expected.length === 0 ? null : q.expected,
        ...(q.id === null ? {} : { id: q.id })
      }))
      const body = asked === undefined ? {} : { questions: asked }
      const { response, answer } = await server.post<RunReport>(body)
      if (response.status === 201) return answer
      const refused = server.refused(response, answer)
      throw questionRefused(answer as Record<string, unknown>, refused.message) ?? refused
    },
    close: async () => {}
  }
}

/** Runs the command; resolves to the exit code: 0 done, 1 below --min-accuracy, 2 no run. */
export async function main (
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io = process
): Promise<number> {
  const fail = (text: string): number => { io.stderr.write(`kb:evaluate: ${text}\n`); return 2 }
  let args
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        format: { type: 'string', default: 'text' },
        'min-accuracy': { type: 'string' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (error) {
    return fail(`${argsProblem(error)}\n${USAGE}`)
  }
  if (args.values.help === true) {
    io.stdout.write(`${USAGE}\n`)
    return 0
  }
  const { format, url } = args.values
  if (format !== 'text' && format !== 'json') {
    return fail(`--format must be text or json, not ${JSON.stringify(format)}.`)
  }
  const minText = args.values['min-accuracy']
  const minAccuracy = minText === undefined ? undefined : Number(minText)
  if (minAccuracy !== undefined && !(minText!.trim() !== '' && minAccuracy >= 0 && minAccuracy <= 1)) {
    return fail(`--min-accuracy must be a number from 0 to 1 (0.8 is 80 %), not ${JSON.stringify(minText)}.`)
  }
  if (args.positionals.length > 1) return fail(USAGE)
  const given = args.positionals[0]

  let runner: Runner | undefined
  try {
    // Checked before opening anything, so a bad line does not cost a database's start.
    // npm runs scripts in the project folder; INIT_CWD is where the user typed the path.
    const path = given === undefined ? undefined : resolve(env.INIT_CWD ?? process.cwd(), given)
    const file = path === undefined ? undefined : await readQuestions(path)
    const questions = file?.questions
    runner = url === undefined ? await databaseRunner(env) : serverRunner(url, env)
    if (format === 'text') {
      const what = questions === undefined
        ? 'the saved question set'
        : `${questions.length} question${questions.length === 1 ? '' : 's'}`
      io.stderr.write(`Running ${what} against ${runner.description}.\n`)
    }
    const report = await runner.run(questions).catch((error: unknown) => {
      // The run names the question by its place in the run; the user's file, by its line.
      if (!(error instanceof QuestionRefused) || file === undefined) throw error
      throw new CliError(`${path!}: line ${file.lines[error.index]!}: expected names document ` +
        `"${error.documentId}", which the knowledge base does not hold (GET /v1/kb/documents lists its ids)`)
    })
    io.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`)
    if (minAccuracy !== undefined && report.accuracy < minAccuracy) {
      io.stderr.write(
        `kb:evaluate: accuracy ${percent(report.accuracy)} is below --min-accuracy ${percent(minAccuracy)}.\n`
      )
      return 1
    }
    return 0
  } catch (error) {
    if (error instanceof CliError) return fail(error.message)
    throw error
  } finally {
    await runner?.close()
  }
}

if (isEntryPoint(import.meta.url)) await runAsProgram(main)
