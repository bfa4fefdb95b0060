// The commands package.json's `bin` names run as programs once built (`npm run build`).
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from '../../src/project.js'

t.test('every bin is an executable file that names node', async t => {
  const { bin } = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  t.ok(Object.keys(bin).length >= 5, Object.keys(bin).join(', '))
  for (const [name, file] of Object.entries(bin)) {
    const { mode } = await stat(join(projectRoot, file))
    t.equal(mode & 0o111, 0o111, `${name} (${file}) is executable`)
    t.match(await readFile(join(projectRoot, file), 'utf8'), /^#!\/usr\/bin\/env node\n/, `${name} names node`)
  }
})
