// Which way the project's files may depend on each other: the domain (src/) never on the SDK's
// preload (otel/), the preload on the domain only through its one entry, and nothing in a cycle:
// no two files of src/, plugins/, web/ and otel/ that import each other, however indirectly, and
// no two folders of src/ (src/chat, src/db …) that do. A type-only import counts: it binds the two
// files' code as much as any other when one of them changes.
//
// dependency-cruiser reads the imports (TypeScript's own parser, so `import type` is seen) and
// resolves them as Node.js and the pages' bundler do; the cycles are found here, on that graph
// (DEVELOPING.md, "Written here: the cycle checks").
import t from 'tap'
import { cruise, type ICruiseResult } from 'dependency-cruiser'
import { projectRoot } from '../src/project.js'

const PRELOAD_ENTRY = 'src/preload-api.ts'
const FOLDERS = ['src', 'plugins', 'web', 'otel']

interface Import { from: string, to: string, typeOnly: boolean }

const describe = ({ from, to, typeOnly }: Import): string => `${from} → ${to}${typeOnly ? ' (type)' : ''}`

/** Every import between the project's files in FOLDERS, and the relative imports that resolve to no file. */
async function readImports (): Promise<{ imports: Import[], unresolved: string[] }> {
  const { output } = await cruise(FOLDERS, {
    baseDir: projectRoot,
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' }
  }, {
    // `.js` in an import names the `.ts` or `.tsx` file that compiles to it.
    extensionAlias: { '.js': ['.ts', '.tsx', '.js'] }
  })
  const inFolders = (path: string): boolean => FOLDERS.some(folder => path.startsWith(`${folder}/`))
  const modules = (output as ICruiseResult).modules.filter(module => inFolders(module.source))
  return {
    imports: modules.flatMap(module => module.dependencies.filter(dependency => inFolders(dependency.resolved)).map(dependency => ({
      from: module.source,
      to: dependency.resolved,
      typeOnly: dependency.dependencyTypes.includes('type-only')
    }))),
    unresolved: modules.flatMap(module => module.dependencies.filter(dependency => dependency.couldNotResolve && dependency.module.startsWith('.')).map(dependency => `${module.source} → ${dependency.module}`))
  }
}

/**
 * One cycle through each strongly connected set of the graph's nodes, as the nodes in order with
 * the first repeated at the end: Tarjan's algorithm finds the sets, and a breadth-first search
 * from a set's first node back to it, inside the set, gives its shortest cycle.
 */
function cyclesOf (edges: Array<[string, string]>): string[][] {
  const next = new Map<string, string[]>()
  for (const [from, to] of edges) {
    next.set(from, [...next.get(from) ?? [], to])
    if (!next.has(to)) next.set(to, [])
  }
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const sets: string[][] = []
  const visit = (node: string): void => {
    index.set(node, index.size)
    low.set(node, index.get(node)!)
    stack.push(node)
    for (const to of next.get(node)!) {
      if (!index.has(to)) visit(to)
      if (stack.includes(to)) low.set(node, Math.min(low.get(node)!, low.get(to)!))
    }
    if (low.get(node) !== index.get(node)) return
    const set = stack.splice(stack.indexOf(node))
    if (set.length > 1) sets.push(set.sort())
  }
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node)
  return sets.map(set => {
    const start = set[0]!
    const cameFrom = new Map<string, string>()
    const queue = [start]
    while (!cameFrom.has(start)) {
      const node = queue.shift()!
      for (const to of next.get(node)!) {
        if (!set.includes(to) || cameFrom.has(to)) continue
        cameFrom.set(to, node)
        queue.push(to)
      }
    }
    const cycle = [start]
    for (let node = cameFrom.get(start)!; node !== start; node = cameFrom.get(node)!) cycle.unshift(node)
    return [start, ...cycle.slice(0, -1), start]
  })
}

/** A file's folder of src/ (src/logging for src/logging/scrubber/names.ts); undefined for the files directly in src/ and outside it. */
const srcFolder = (path: string): string | undefined => /^src\/[^/]+(?=\/)/.exec(path)?.[0]

/** The cycles among the files, and among the folders of src/, with the imports that make each. */
function cycles (imports: Import[]): { files: string[], folders: string[] } {
  const files = cyclesOf(imports.map(({ from, to }) => [from, to])).map(cycle => cycle.join(' → '))
  const between = imports.filter(({ from, to }) => srcFolder(from) !== undefined && srcFolder(to) !== undefined && srcFolder(from) !== srcFolder(to))
  const folders = cyclesOf(between.map(({ from, to }) => [srcFolder(from)!, srcFolder(to)!])).map(cycle =>
    `${cycle.join(' → ')}: ${cycle.slice(1).map((to, i) => between.filter(found => srcFolder(found.from) === cycle[i] && srcFolder(found.to) === to).map(describe).join(', ')).join('; ')}`)
  return { files, folders }
}

const read = readImports()

t.test('every relative import in src/, plugins/, web/ and otel/ names a file', async t => {
  const { imports, unresolved } = await read
  t.ok(imports.length > 500, `the imports were read (${imports.length})`)
  t.ok(imports.some(found => found.typeOnly), 'type-only imports among them')
  t.same(unresolved, [])
})

t.test('no file in src/ imports from otel/', async t => {
  const { imports } = await read
  t.same(imports.filter(({ from, to }) => from.startsWith('src/') && to.startsWith('otel/')).map(describe), [])
})

t.test(`otel/ reaches src/ only through ${PRELOAD_ENTRY}`, async t => {
  const fromOtel = (await read).imports.filter(({ from, to }) => from.startsWith('otel/') && to.startsWith('src/'))
  t.ok(fromOtel.some(({ to }) => to === PRELOAD_ENTRY), 'the preload uses it')
  t.same(fromOtel.filter(({ to }) => to !== PRELOAD_ENTRY).map(describe), [])
})

t.test('no import cycle between files of src/, plugins/, web/ and otel/', async t => {
  t.same(cycles((await read).imports).files, [])
})

t.test('no cycle between the folders of src/', async t => {
  t.same(cycles((await read).imports).folders, [])
})

t.test('the cycle search finds a cycle however long, and the folders that make one', async t => {
  t.same(cyclesOf([['a', 'b'], ['b', 'c'], ['c', 'a'], ['c', 'd'], ['d', 'e']]), [['a', 'b', 'c', 'a']])
  t.same(cyclesOf([['a', 'b'], ['b', 'c']]), [], 'none in a chain')
  const found = cycles([
    { from: 'src/a/one.ts', to: 'src/b/two.ts', typeOnly: false },
    { from: 'src/b/three.ts', to: 'src/a/four.ts', typeOnly: true }
  ])
  t.same(found.files, [], 'no two files import each other')
  t.same(found.folders, ['src/a → src/b → src/a: src/a/one.ts → src/b/two.ts; src/b/three.ts → src/a/four.ts (type)'])
})
