// How the pages' modules may depend on each other (web/README.md): one way only, no module
// importing a page's entry (main.tsx) back, the server's code only as types, the API reached
// through web/shared/request.ts alone, and no module state that others can assign.
import t from 'tap'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { projectRoot } from '../../src/project.js'

interface Module { file: string, source: string, imports: Array<{ path: string, typeOnly: boolean }> }

/** A specifier's file: `./x.js` names x.ts or x.tsx. */
function fileOf (from: string, specifier: string): string {
  const path = relative(projectRoot, resolve(projectRoot, dirname(from), specifier))
  for (const candidate of [path.replace(/\.js$/, '.ts'), path.replace(/\.js$/, '.tsx')]) if (existsSync(join(projectRoot, candidate))) return candidate
  return path
}

async function pages (): Promise<Module[]> {
  const names = (await readdir(join(projectRoot, 'web'), { recursive: true })).filter(name => /\.tsx?$/.test(name))
  return await Promise.all(names.map(async name => {
    const file = join('web', name)
    const source = await readFile(join(projectRoot, file), 'utf8')
    const imports = [...source.matchAll(/^(?:import|export)\s+(type\s+)?[^'\n]*?from\s+'(\.{1,2}\/[^']+)'|^import\s+'(\.{1,2}\/[^']+)'/gm)]
      .map(match => ({ path: fileOf(file, match[2] ?? match[3]!), typeOnly: match[1] !== undefined }))
    return { file, source, imports }
  }))
}

/** Each cycle of imports, as the files along it. */
function cycles (modules: Array<{ file: string, imports: Array<{ path: string }> }>): string[][] {
  const edges = new Map(modules.map(({ file, imports }) => [file, imports.map(({ path }) => path)]))
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'open') { found.push([...trail.slice(trail.indexOf(file)), file]); return }
    state.set(file, 'open')
    for (const next of edges.get(file) ?? []) visit(next, [...trail, file])
    state.set(file, 'done')
  }
  for (const file of edges.keys()) visit(file, [])
  return found
}

t.test('the cycle finder finds one', async t => {
  t.same(cycles([{ file: 'a', imports: [{ path: 'b' }] }, { file: 'b', imports: [{ path: 'a' }] }]), [['a', 'b', 'a']])
  t.same(cycles([{ file: 'a', imports: [{ path: 'b' }] }, { file: 'b', imports: [] }]), [])
})

t.test('no import cycle in web/, types included', async t => {
  const modules = await pages()
  t.ok(modules.some(({ imports }) => imports.length > 0), 'the imports are read')
  t.same(cycles(modules), [])
})

t.test('no module imports a page\'s entry', async t => {
  const found = (await pages()).flatMap(({ file, imports }) => imports.filter(({ path }) => path.endsWith('/main.tsx')).map(({ path }) => `${file} → ${path}`))
  t.same(found, [])
})

t.test('the server\'s code is imported as types only', async t => {
  const found = (await pages()).flatMap(({ file, imports }) => imports.filter(({ path, typeOnly }) => path.startsWith('src/') && !typeOnly).map(({ path }) => `${file} → ${path}`))
  t.same(found, [])
})

t.test('only web/shared/request.ts calls fetch', async t => {
  const found = (await pages()).filter(({ file, source }) => file !== 'web/shared/request.ts' && /\bfetch\s*\(/.test(source)).map(({ file }) => file)
  t.same(found, [])
})

t.test('no exported let: module state is read and changed through functions', async t => {
  const found = (await pages()).filter(({ source }) => /^export\s+let\b/m.test(source)).map(({ file }) => file)
  t.same(found, [])
})
