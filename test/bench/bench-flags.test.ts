// The benchmarks' command line: what is not understood stops the run with the usage line, rather
// than a long run going ahead without what was asked for.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { parseBenchFlags } from '../../bench/bench-flags.js'
import { projectRoot } from '../../src/project.js'

const FLAGS = {
  smoke: { kind: 'switch', meaning: 'a small slice' },
  seconds: { kind: 'seconds', default: 8, meaning: 'seconds per step' },
  history: { kind: 'count', default: 0, meaning: 'stored messages' },
  engine: { kind: 'choice', choices: ['pglite', 'postgres'], default: 'pglite', meaning: 'the engine' },
  baseline: { kind: 'text', default: '', meaning: 'a dist folder' }
} as const
const parse = (args: string[]) => parseBenchFlags('bench:example', FLAGS, args)
// RegExp.escape is not in Node.js 22, which CI runs the unit tests on too.
const escaped = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')
const USAGE = 'Usage: npm run bench:example -- [--smoke] [--seconds seconds per step] [--history stored messages] [--engine pglite|postgres] [--baseline a dist folder]'

t.test('what is not given takes its default', async t => {
  t.same(parse([]), { smoke: false, seconds: 8, history: 0, engine: 'pglite', baseline: '' })
})

t.test('what is given is read as its kind', async t => {
  t.same(parse(['--smoke', '--seconds', '0.5', '--history', '1000000', '--engine', 'postgres', '--baseline', '../before/dist']),
    { smoke: true, seconds: 0.5, history: 1_000_000, engine: 'postgres', baseline: '../before/dist' })
})

t.test('a problem names the flag and gives the usage line', async t => {
  const cases: Array<[string[], string]> = [
    [['--smok'], "Unknown option '--smok'"],
    [['--baseline'], "Option '--baseline <value>' argument missing"],
    [['--seconds', '0'], '--seconds must be a positive number of seconds, not "0"'],
    [['--history', '2.5'], '--history must be a whole number ≥ 1, not "2.5"'],
    [['--engine', 'sqlite'], '--engine must be one of pglite, postgres, not "sqlite"'],
    [['extra'], "Unexpected argument 'extra'"]
  ]
  for (const [args, problem] of cases) {
    t.throws(() => parse(args), { message: new RegExp(`^${escaped(problem)}[^]*\\n${escaped(USAGE)}$`) }, args.join(' '))
  }
})

t.test('every benchmark reads its command line through benchFlags', async t => {
  const bench = join(projectRoot, 'bench')
  const files = (await readdir(bench)).filter(name => name.endsWith('.ts') && name !== 'bench-flags.ts')
  const sources = await Promise.all(files.map(async name => [name, await readFile(join(bench, name), 'utf8')] as const))
  const commands = sources.filter(([, source]) => /process\.argv|benchFlags\(/.test(source))
  t.ok(commands.length >= 15, commands.map(([name]) => name).join(', '))
  for (const [name, source] of commands) {
    // bench/search.ts runs itself again with --expose-gc, its command line passed on as given.
    const read = source.replaceAll('...process.argv.slice(2)]', '')
    t.notMatch(read, /process\.argv|parseArgs/, `${name} reads no flag past benchFlags`)
    t.match(read, /benchFlags\('bench(:[a-z-]+)?'/, `${name} names its npm command`)
  }
})
