// What the tools say when util.parseArgs refuses their arguments: Node's own errors, thrown by the
// real parseArgs.
import { parseArgs } from 'node:util'
import t from 'tap'
import { argsProblem } from '../../../src/cli/entry-point.js'

const refusal = (args: string[], allowPositionals = true): unknown => {
  try {
    parseArgs({ args, allowPositionals, options: { url: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } } })
  } catch (error) {
    return error
  }
  throw new Error(`parseArgs took ${JSON.stringify(args)}`)
}

t.test('argsProblem: an unknown option in one sentence, without Node\'s unclosed quote', async t => {
  // The tools allow positionals, and then Node adds its hint about '--'.
  t.match((refusal(['--urll', 'faq.jsonl']) as Error).message, /as in '-- "--urll"$/, 'Node\'s own message')
  t.equal(argsProblem(refusal(['--urll', 'faq.jsonl'])), 'Unknown option \'--urll\'')
  t.equal(argsProblem(refusal(['-x'])), 'Unknown option \'-x\'')
  t.equal(argsProblem(refusal(['-x'], false)), 'Unknown option \'-x\'', 'without the hint, as it was')
})

t.test('argsProblem: other refusals as Node words them', async t => {
  const missing = refusal(['--url'])
  t.equal(argsProblem(missing), (missing as Error).message)
  t.match(argsProblem(missing), /--url/)
})
