// Runs the TypeScript of the tests and of what they import, for tap (package.json: `node-arg`).
// Each test file is a process of its own, and tap's own loader (ts-node) compiles the whole app
// with TypeScript in every one of them: most of the unit suite's time. esbuild (the pages' bundler)
// transforms a file in about a millisecond. Not tsx, which is built on it: tsx minifies what it
// runs, and coverage, mapped back from one line a file, then reads nearly every file as covered.
// Node's own type stripping would do, but for the `.js` names that imports give `.ts` files.
//
// The hooks run in the test's own thread (module.registerHooks), and what esbuild made is kept in
// the temp folder by the file's content: every test process loads the same 300 modules of the
// app, and loader hooks on their own thread (module.register, deprecated on Node.js 26) with a
// transform each took 2.3 to 2.9 s to import src/app.ts, in-thread 1.3 to 1.6 s, and from the
// kept output 0.7 to 0.9 s (DEVELOPING.md). module.register stays for Node.js lines before 22.15.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import module from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import { transformSync, version } from 'esbuild'

const RELATIVE = /^\.{1,2}\//
// Keyed by this file and esbuild's version too: either may change what a source becomes.
const CACHE = join(tmpdir(), 'parley-ts-loader')
const CACHE_KEY = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).update(version).digest()
mkdirSync(CACHE, { recursive: true })

// `next` is synchronous under registerHooks and returns a promise under register: both are returned as they are.
export function resolve (specifier, context, next) {
  if (RELATIVE.test(specifier) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const typescript = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL)
    if (existsSync(typescript)) return { url: typescript.href, format: 'module', shortCircuit: true }
  }
  return next(specifier, context)
}

export function load (url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return next(url, context)
  return { format: 'module', source: transformed(fileURLToPath(url)), shortCircuit: true }
}

function transformed (path) {
  const source = readFileSync(path, 'utf8')
  const kept = join(CACHE, `${createHash('sha256').update(CACHE_KEY).update(path).update('\0').update(source).digest('hex')}.js`)
  try {
    return readFileSync(kept, 'utf8')
  } catch {
    const { code } = transformSync(source, { loader: 'ts', format: 'esm', target: 'node22', sourcemap: 'inline', sourcefile: path })
    // Written whole, then renamed: two test processes may make the same file at once.
    writeFileSync(`${kept}.${process.pid}`, code)
    renameSync(`${kept}.${process.pid}`, kept)
    return code
  }
}

if (isMainThread) {
  if (typeof module.registerHooks === 'function') module.registerHooks({ resolve, load })
  else module.register(import.meta.url)
}
