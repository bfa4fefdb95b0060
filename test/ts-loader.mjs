// Runs the TypeScript of the tests and of what they import, for tap (package.json: `node-arg`).
// Each test file is a process of its own, and tap's own loader (ts-node) compiles the whole app
// with TypeScript in every one of them: most of the unit suite's time. esbuild (the pages' bundler)
// transforms a file in about a millisecond. Not tsx, which is built on it: tsx minifies what it
// runs, and coverage, mapped back from one line a file, then reads nearly every file as covered.
// Node's own type stripping would do, but for the `.js` names that imports give `.ts` files.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { register } from 'node:module'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import { transform } from 'esbuild'

if (isMainThread) register(import.meta.url)

const RELATIVE = /^\.{1,2}\//

export async function resolve (specifier, context, next) {
  if (RELATIVE.test(specifier) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const typescript = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL)
    if (existsSync(typescript)) return { url: typescript.href, format: 'module', shortCircuit: true }
  }
  return await next(specifier, context)
}

export async function load (url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/')) return await next(url, context)
  const path = fileURLToPath(url)
  const { code } = await transform(await readFile(path, 'utf8'), { loader: 'ts', format: 'esm', target: 'node22', sourcemap: 'inline', sourcefile: path })
  return { format: 'module', source: code, shortCircuit: true }
}
