/**
 * Scrubber benchmark: how much personal data each scrubber keeps out, how much ordinary support
 * text it alters, and what a message costs, side by side in one run.
 *
 *   npm run bench:scrubber                          # this build, and compromise's people and places alone
 *   npm run bench:scrubber -- --baseline ../old/dist   # also another build's scrubber, on the same texts
 *   npm run bench:scrubber -- --samples f.jsonl --ordinary f.txt   # other labelled sets (one text a line)
 *   npm run bench:scrubber -- --leaks               # also print what each one let through or altered
 *
 * Personal data: bench/scrubber/*.jsonl, one message a line as users write them, with the
 * substrings that must not survive ({ kind, text, secret[] }): personal-data.jsonl written with the
 * rules, personal-data-blind.jsonl by someone who had not seen them (see bench/README.md). Ordinary
 * text, which must come out as it went in: stackfaq-dev's queries (people asking about web
 * applications), the written FAQs' users' messages, the out-of-scope lines of the answer benchmark
 * and bench/scrubber/ordinary.txt (support messages that look like personal data and are not).
 */
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import nlp from 'compromise'
import { scrub } from '../src/logging/scrubber.js'
import { projectRoot } from '../src/project.js'
import { benchFlags } from './bench-flags.js'
import { datasetsDir, loadQueryRecords } from './datasets.js'

interface Sample { kind: string, text: string, secret: string[] }
type Scrubber = (text: string) => string

const flags = benchFlags('bench:scrubber', {
  samples: { kind: 'text', default: '', meaning: 'labelled texts, a JSON object a line' },
  ordinary: { kind: 'text', default: '', meaning: 'ordinary texts, one a line' },
  baseline: { kind: 'text', default: '', meaning: 'another build\'s dist folder' },
  leaks: { kind: 'switch', meaning: 'also print what each scrubber let through or altered' }
})

const SCRUBBER_DATA = join(projectRoot, 'bench/scrubber')

function samples (): Sample[] {
  const given = flags.samples
  const files = given === '' ? readdirSync(SCRUBBER_DATA).filter(name => name.endsWith('.jsonl')).map(name => join(SCRUBBER_DATA, name)) : [given]
  return files.flatMap(file => readFileSync(file, 'utf8').split('\n').filter(line => line.trim() !== '').map(line => JSON.parse(line) as Sample))
}

const linesOf = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(line => line.trim() !== '')

function ordinaryTexts (): Map<string, string[]> {
  const file = flags.ordinary
  if (file !== '') return new Map([[file, linesOf(file)]])
  const faqs = join(projectRoot, 'bench/answers/faqs')
  return new Map([
    ['stackfaq-dev queries', loadQueryRecords('stackfaq-dev', datasetsDir).map(query => query.text)],
    ['the written FAQs\' users', ['bank', 'campus-it', 'clinic', 'bikeshop'].flatMap(name => loadQueryRecords(name, faqs).map(query => query.text))],
    ['out-of-scope lines', linesOf(join(projectRoot, 'bench/answers/out-of-scope.txt'))],
    ['look-alikes', linesOf(join(SCRUBBER_DATA, 'ordinary.txt'))]
  ])
}

/** compromise's people and places, replaced: the NLP library alone, without patterns. */
function compromiseAlone (text: string): string {
  const doc = nlp(text)
  let out = text
  for (const found of [...doc.people().out('array') as string[], ...doc.places().out('array') as string[]]) out = out.split(found).join('[NAME]')
  return out
}

async function scrubbers (): Promise<Array<[string, Scrubber]>> {
  const list: Array<[string, Scrubber]> = [['this build', scrub], ['compromise alone (people, places)', compromiseAlone]]
  const { baseline } = flags
  if (baseline !== '') {
    const module = await import(resolve(baseline, 'src/logging/scrubber.js')) as { scrub: Scrubber }
    list.push([`baseline (${baseline})`, module.scrub])
  }
  return list
}

async function main (): Promise<void> {
  const personal = samples()
  const ordinary = ordinaryTexts()
  const kinds = [...new Set(personal.map(sample => sample.kind))]
  console.log(`# Scrubber benchmark (${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version})\n`)
  console.log(`${personal.length} messages with personal data, ${kinds.length} kinds; ordinary text: ${[...ordinary].map(([name, texts]) => `${name} (${texts.length})`).join(', ')}\n`)
  const header = ['scrubber', 'personal data kept out', ...[...ordinary.keys()].map(name => `${name} altered`), 'µs a message']
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`)
  const byKind = new Map<string, string[]>()
  const notes: string[] = []
  for (const [name, fn] of await scrubbers()) {
    let caught = 0
    const kindRow: string[] = []
    for (const kind of kinds) {
      const ofKind = personal.filter(sample => sample.kind === kind)
      const kept = ofKind.filter(sample => {
        const out = fn(sample.text)
        const ok = sample.secret.every(secret => !out.includes(secret))
        if (!ok) notes.push(`${name}, leaked (${kind}): ${out.replaceAll('\n', '⏎')}`)
        return ok
      }).length
      caught += kept
      kindRow.push(`${kept}/${ofKind.length}`)
    }
    byKind.set(name, kindRow)
    const altered = [...ordinary.values()].map(texts => {
      const changed = texts.filter(text => {
        const out = fn(text)
        if (out !== text) notes.push(`${name}, altered: ${text} => ${out}`)
        return out !== text
      }).length
      return `${changed} (${(100 * changed / texts.length).toFixed(1)} %)`
    })
    // The fastest of five rounds over every text: one noisy round does not decide.
    const all = [...personal.map(sample => sample.text), ...[...ordinary.values()].flat()]
    let best = Infinity
    for (let round = 0; round < 5; round++) {
      const started = performance.now()
      for (const text of all) fn(text)
      best = Math.min(best, (performance.now() - started) * 1000 / all.length)
    }
    console.log(`| ${name} | ${caught} of ${personal.length} | ${altered.join(' | ')} | ${best.toFixed(1)} |`)
  }
  console.log(`\nBy kind (kept out / messages):\n\n| kind | ${[...byKind.keys()].join(' | ')} |\n|---|${[...byKind.keys()].map(() => '---').join('|')}|`)
  kinds.forEach((kind, i) => console.log(`| ${kind} | ${[...byKind.values()].map(row => row[i]).join(' | ')} |`))
  if (flags.leaks) console.log(`\n${notes.join('\n')}`)
}

await main()
