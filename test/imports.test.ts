// Which way the top-level folders may depend on each other: the domain (src/) never on the SDK's
// preload (otel/), and the preload on the domain only through its one entry.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { projectRoot } from '../src/project.js'

const PRELOAD_ENTRY = 'src/telemetry/preload-api.ts'

/** Each TypeScript file under `folder` with the project files it imports. */
async function importsUnder (folder: string): Promise<Array<{ file: string, imports: string[] }>> {
  const names = (await readdir(join(projectRoot, folder), { recursive: true })).filter(name => /\.tsx?$/.test(name))
  return await Promise.all(names.map(async name => {
    const file = join(folder, name)
    const source = await readFile(join(projectRoot, file), 'utf8')
    const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map(match => match[1]!)
    const imports = specifiers.map(specifier => relative(projectRoot, resolve(projectRoot, dirname(file), specifier)).replace(/\.js$/, '.ts'))
    return { file, imports }
  }))
}

t.test('no file in src/ imports from otel/', async t => {
  const found = (await importsUnder('src')).flatMap(({ file, imports }) => imports.filter(path => path.startsWith('otel/')).map(path => `${file} → ${path}`))
  t.same(found, [])
})

t.test(`otel/ reaches src/ only through ${PRELOAD_ENTRY}`, async t => {
  const files = await importsUnder('otel')
  t.ok(files.some(({ imports }) => imports.includes(PRELOAD_ENTRY)), 'the preload uses it')
  const found = files.flatMap(({ file, imports }) => imports.filter(path => path.startsWith('src/') && path !== PRELOAD_ENTRY).map(path => `${file} → ${path}`))
  t.same(found, [])
})
