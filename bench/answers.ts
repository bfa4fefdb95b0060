/**
 * Answer benchmark: does the bot answer when the knowledge base knows, from a relevant document,
 * and refuse when it does not? Each development collection in turn is the knowledge base; its
 * judged queries are the answerable turns, and the other collection's queries and the small-talk
 * lines in bench/answers/small-talk.txt are turns it should not answer. Every turn goes through
 * the chat turn's own decision (src/chat/reply-decision.ts): small talk first, then the search and
 * the answer model.
 *
 *   npm run bench:answers            # train and test splits, with the model in src/search/answer-decision.ts
 *   npm run bench:answers -- --fit   # fit the model on the train splits only, and print it
 *   npm run bench:answers -- --smoke # a small slice, as CI runs it
 *
 * Splits: SciFact's train and test judgments; Cranfield's queries by id (odd: train, even: test);
 * small-talk lines by position (odd lines: train). Tune on train, report test.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { decideReply } from '../src/chat/reply-decision.js'
import { DEFAULT_ANSWER_MODEL, features, type AnswerModel } from '../src/search/answer-decision.js'
import { SearchEngine } from '../src/search/search-engine.js'
import { projectRoot } from '../src/project.js'
import { loadCorpus, loadQrels, loadQueries, toSearchDocument, type Qrels } from './datasets.js'

type Split = 'train' | 'test'
interface Turn { text: string, split: Split, relevant?: Set<string> }
interface Outcome { turn: Turn, features: number[] | undefined, answeredFrom: string | undefined, best: string | undefined }

const args = new Set(process.argv.slice(2))
const smoke = args.has('--smoke')
const COLLECTIONS = ['scifact', 'cranfield'] as const
type Collection = typeof COLLECTIONS[number]

function judgedTurns (qrels: Qrels, queries: Map<string, string>, split: (id: string) => Split): Turn[] {
  const turns: Turn[] = []
  for (const [id, judged] of qrels) {
    const text = queries.get(id)
    const relevant = new Set([...judged].filter(([, grade]) => grade > 0).map(([doc]) => doc))
    if (text !== undefined && relevant.size > 0) turns.push({ text, split: split(id), relevant })
  }
  return turns
}

const byParity = (id: string): Split => Number(id) % 2 === 1 ? 'train' : 'test'

function answerableTurns (name: Collection): Turn[] {
  const queries = loadQueries(name)
  if (name === 'cranfield') return judgedTurns(loadQrels(name, 'test'), queries, byParity)
  return [...judgedTurns(loadQrels(name, 'train'), queries, () => 'train'), ...judgedTurns(loadQrels(name, 'test'), queries, () => 'test')]
}

/** Queries of a collection as turns another knowledge base should not answer, split as above. */
function outOfScopeTurns (name: Collection): Turn[] {
  const queries = loadQueries(name)
  if (name === 'cranfield') return [...queries].map(([id, text]) => ({ text, split: byParity(id) }))
  const test = loadQrels(name, 'test')
  return [...queries].map(([id, text]) => ({ text, split: test.has(id) ? 'test' : 'train' }))
}

const smallTalk: Turn[] = readFileSync(join(projectRoot, 'bench/answers/small-talk.txt'), 'utf8').split('\n')
  .filter(line => line.trim() !== '').map((text, index) => ({ text, split: index % 2 === 0 ? 'train' : 'test' }))

/** The smoke slice: a few turns of each split, and the documents they need beside a few others. */
function pick (turns: Turn[], size: number): Turn[] {
  if (!smoke) return turns
  return [...turns.filter(turn => turn.split === 'train').slice(0, size), ...turns.filter(turn => turn.split === 'test').slice(0, size)]
}

function run (engine: SearchEngine, turns: Turn[], model: AnswerModel): Outcome[] {
  return turns.map(turn => {
    const decision = decideReply(engine, turn.text, { model })
    return {
      turn,
      features: decision.kind === 'smalltalk' ? undefined : features(decision.evidence),
      answeredFrom: decision.kind === 'answer' ? decision.hits[0]?.docId : undefined,
      best: decision.hits[0]?.docId
    }
  })
}

interface Scores { answerable: number, bestRelevant: number, answeredRight: number, answeredWrong: number, outOfScope: number, refused: number }

function score (outcomes: Outcome[]): Scores {
  const scores: Scores = { answerable: 0, bestRelevant: 0, answeredRight: 0, answeredWrong: 0, outOfScope: 0, refused: 0 }
  for (const { turn, answeredFrom, best } of outcomes) {
    if (turn.relevant === undefined) {
      scores.outOfScope++
      if (answeredFrom === undefined) scores.refused++
    } else {
      scores.answerable++
      if (best !== undefined && turn.relevant.has(best)) scores.bestRelevant++
      if (answeredFrom !== undefined) scores[turn.relevant.has(answeredFrom) ? 'answeredRight' : 'answeredWrong']++
    }
  }
  return scores
}

function row (label: string, s: Scores): string {
  const share = (part: number, whole: number) => whole === 0 ? '-' : (part / whole).toFixed(3)
  return `| ${label} | ${s.answerable} | ${share(s.bestRelevant, s.answerable)} | ${share(s.answeredRight, s.answerable)} | ${share(s.answeredWrong, s.answerable)} | ${s.outOfScope} | ${share(s.refused, s.outOfScope)} | ${share(s.answeredRight + s.refused, s.answerable + s.outOfScope)} |`
}

/**
 * Logistic regression by gradient descent on the train turns: an answerable turn whose best
 * document is relevant should be answered (1), an out-of-scope turn refused (0). Answerable turns
 * whose best document is wrong are left out: the decision cannot make them right. Each knowledge
 * base and each class weighs the same, so neither collection's size sets the threshold.
 */
function fit (samples: Array<{ x: number[], y: number, weight: number }>): AnswerModel {
  const dims = samples[0]!.x.length
  const w = new Array<number>(dims + 1).fill(0)
  const totalWeight = samples.reduce((sum, s) => sum + s.weight, 0)
  for (let step = 0; step < 20_000; step++) {
    const gradient = new Array<number>(dims + 1).fill(0)
    for (const { x, y, weight } of samples) {
      const logit = w[0]! + x.reduce((sum, value, i) => sum + value * w[i + 1]!, 0)
      const error = (1 / (1 + Math.exp(-logit)) - y) * weight
      gradient[0]! += error
      for (let i = 0; i < dims; i++) gradient[i + 1]! += error * x[i]!
    }
    for (let i = 0; i <= dims; i++) w[i]! -= 2 * gradient[i]! / totalWeight
  }
  const round = (value: number) => Math.round(value * 100) / 100
  return { intercept: round(w[0]!), coverage: round(w[1]!), relativeScore: round(w[2]!), lead: round(w[3]!), threshold: 0.5 }
}

function main (): void {
  console.log(`# Answer benchmark (${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version})${smoke ? ' — smoke slice' : ''}\n`)
  const setups = COLLECTIONS.map(name => {
    const other = COLLECTIONS.find(candidate => candidate !== name)!
    const answerable = pick(answerableTurns(name), 20)
    const needed = new Set(answerable.flatMap(turn => [...turn.relevant!]))
    const engine = new SearchEngine()
    for (const [index, doc] of loadCorpus(name).entries()) if (!smoke || index < 300 || needed.has(doc.id)) engine.upsert(toSearchDocument(doc))
    const turns = [...answerable, ...pick(outOfScopeTurns(other), 20), ...smallTalk]
    return { name, engine, turns }
  })

  let model = DEFAULT_ANSWER_MODEL
  if (args.has('--fit')) {
    const samples: Array<{ x: number[], y: number, weight: number }> = []
    for (const { engine, turns } of setups) {
      const outcomes = run(engine, turns.filter(turn => turn.split === 'train'), model)
      const labelled = outcomes.flatMap(({ turn, features: x, best }) => {
        if (x === undefined) return []
        if (turn.relevant === undefined) return [{ x, y: 0 }]
        return best !== undefined && turn.relevant.has(best) ? [{ x, y: 1 }] : []
      })
      const positives = labelled.filter(sample => sample.y === 1).length
      for (const sample of labelled) samples.push({ ...sample, weight: 1 / (sample.y === 1 ? positives : labelled.length - positives) })
    }
    model = fit(samples)
    console.log(`Fitted on the train splits (${samples.length} turns):\n${JSON.stringify(model)}\n`)
  }

  console.log('| knowledge base, split | answerable | best document relevant (the ceiling) | answered, relevant | answered, wrong document | out of scope | refused | reply accuracy |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const split of ['train', 'test'] as const) {
    const all: Outcome[] = []
    for (const { name, engine, turns } of setups) {
      const outcomes = run(engine, turns.filter(turn => turn.split === split), model)
      all.push(...outcomes)
      console.log(row(`${name}, ${split}`, score(outcomes)))
    }
    console.log(row(`both, ${split}`, score(all)))
  }

  // The decision's own cost: the search with its evidence and the model, against the search alone.
  const { engine, turns } = setups[0]!
  const texts = turns.map(turn => turn.text)
  const time = (fn: (text: string) => unknown) => {
    const started = performance.now()
    for (const text of texts) fn(text)
    return (performance.now() - started) * 1000 / texts.length
  }
  // Alternating rounds, the fastest of each: one noisy round does not decide the difference.
  let searchOnly = Infinity
  let withDecision = Infinity
  for (let round = 0; round < (smoke ? 2 : 7); round++) {
    searchOnly = Math.min(searchOnly, time(text => engine.search(text, 3)))
    withDecision = Math.min(withDecision, time(text => decideReply(engine, text, { model })))
  }
  console.log(`\nPer turn on ${setups[0]!.name} (${engine.documentCount} documents): search alone ${searchOnly.toFixed(0)} µs, search + decision ${withDecision.toFixed(0)} µs (${withDecision >= searchOnly ? '+' : ''}${(withDecision - searchOnly).toFixed(0)} µs, within the noise when negative)`)
}

main()
