// Every LogQL example in the README parses with Grafana's own LogQL grammar.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parser } from '@grafana/lezer-logql'
import { projectRoot } from '../src/project.js'

t.test('the README\'s LogQL examples are valid LogQL', async t => {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8')
  const queries = [...readme.matchAll(/```logql\n([\s\S]*?)```/g)].map(match => match[1]!.trim())
  t.ok(queries.length >= 4, `found ${queries.length} examples`)
  for (const query of queries) {
    const errors: number[] = []
    parser.parse(query).iterate({ enter: node => { if (node.type.isError) errors.push(node.from) } })
    t.same(errors, [], query)
  }
  const broken = '{service="parley" | json | latency_ms >'
  let brokenErrors = 0
  parser.parse(broken).iterate({ enter: node => { if (node.type.isError) brokenErrors++ } })
  t.ok(brokenErrors > 0, 'a broken query is caught, so the check can fail')
})
