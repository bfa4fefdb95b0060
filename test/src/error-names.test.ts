// An error's name is its class's: a log line's error_type and fingerprint are made of it
// (src/logging/error-fingerprint.ts), and an Error subclass that sets none is logged as "Error".
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { projectRoot } from '../../src/project.js'

t.test('every Error subclass in src/ names itself', async t => {
  const files = (await readdir(join(projectRoot, 'src'), { recursive: true })).filter(name => name.endsWith('.ts'))
  const unnamed: string[] = []
  let classes = 0
  for (const file of files) {
    const source = await readFile(join(projectRoot, 'src', file), 'utf8')
    for (const match of source.matchAll(/class (\w+) extends (\w*Error) \{([\s\S]*?)\n\}|class (\w+) extends (\w*Error) \{(.*)\}$/gm)) {
      const name = match[1] ?? match[4]!
      const body = match[3] ?? match[6] ?? ''
      classes++
      // A ProblemError names itself from new.target; its subclasses inherit that.
      const named = body.includes(`name = '${name}'`) || body.includes('new.target.name') || (match[2] ?? match[5]) !== 'Error'
      if (!named) unnamed.push(`src/${file}: ${name}`)
    }
  }
  t.ok(classes >= 10, `${classes} error classes found`)
  t.same(unnamed, [])
})
