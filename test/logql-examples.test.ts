// Every LogQL example in the guides parses with Grafana's own LogQL grammar, and the queries
// written for the stack select only labels its Loki has.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parser } from '@grafana/lezer-logql'
import { parse } from 'yaml'
import { projectRoot } from '../src/project.js'

t.test('the LogQL examples of the README, DEVELOPING.md and the stack\'s guide are valid LogQL', async t => {
  const guides = await Promise.all(['README.md', 'DEVELOPING.md', 'otel/README.md'].map(async file => await readFile(join(projectRoot, file), 'utf8')))
  const queries = guides.flatMap(text => [...text.matchAll(/```logql\n([\s\S]*?)```/g)].map(match => match[1]!.trim()))
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

// The stack's Loki indexes only the resource attributes otel/stack/loki.yaml names (dots as
// underscores); a query selecting any other label finds nothing there (the level, for one, is severity_text,
// structured metadata, filtered after the selector: {service_name="parley"} | severity_text="error").
t.test('every query written for the stack selects only the labels its Loki indexes', async t => {
  const loki = parse(await readFile(join(projectRoot, 'otel/stack/loki.yaml'), 'utf8')) as { limits_config: { otlp_config: { resource_attributes: { ignore_defaults?: boolean, attributes_config: Array<{ action: string, attributes: string[] }> } } } }
  const resource = loki.limits_config.otlp_config.resource_attributes
  t.equal(resource.ignore_defaults, true, 'Loki\'s default labels (service.instance.id among them, new at every restart) are off')
  const indexed = new Set(resource.attributes_config.filter(rule => rule.action === 'index_label').flatMap(rule => rule.attributes.map(name => name.replaceAll('.', '_'))))
  const files = ['README.md', 'DEVELOPING.md', 'otel/README.md', 'otel/stack/alerts.yml', ...(await readdir(join(projectRoot, 'docs'))).map(name => `docs/${name}`)]
  const selectors = (await Promise.all(files.map(async file => await readFile(join(projectRoot, file), 'utf8'))))
    .flatMap(text => [...text.matchAll(/\{([^{}]*service_name[^{}]*)\}/g)].map(match => match[1]!))
  t.ok(selectors.length >= 5, `${selectors.length} stream selectors for the stack`)
  for (const selector of selectors) {
    const labels = [...selector.matchAll(/([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)/gi)].map(match => match[1]!)
    t.same(labels.filter(label => !indexed.has(label)), [], `{${selector}}`)
  }
})
