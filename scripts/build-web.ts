// Builds the pages (web/) into dist/web with esbuild: one minified bundle per page (its CSS
// beside it) and the widget, plus each page's HTML with its assets' URLs versioned by content,
// so /assets/* can be cached for a year and a new build is still fetched at once.
// Run by `npm run build` after tsc; esbuild only strips types, `npm run typecheck` checks them.
// With --watch (`npm run dev`), it stays and builds again on every change of web/.
import { context, type BuildOptions, type BuildResult, type PluginBuild } from 'esbuild'
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { projectRoot } from '../src/project.js'

const web = join(projectRoot, 'web')
const out = join(projectRoot, 'dist/web')
const pages = ['console', 'chat'] as const

const options: BuildOptions & { metafile: true } = {
  entryPoints: [
    ...pages.map(page => ({ in: join(web, page, 'main.tsx'), out: `assets/${page}` })),
    { in: join(web, 'widget/widget.ts'), out: 'widget' }
  ],
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  // Classic scripts: the widget needs document.currentScript, which module scripts do not have.
  format: 'iife',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning'
}

const version = async (file: string): Promise<string> =>
  createHash('sha256').update(await readFile(join(out, file))).digest('hex').slice(0, 12)

/** Each page's HTML, its assets' URLs versioned by their content, and the sizes on stderr. */
async function writePages (result: BuildResult): Promise<void> {
  for (const page of pages) {
    const template = await readFile(join(web, page, `${page}.html`), 'utf8')
    // The template names its assets as {{console.js}}; each becomes /assets/console.js?v=<hash>.
    let html = template
    for (const [, name] of template.matchAll(/\{\{([\w.-]+)\}\}/g)) {
      html = html.replace(`{{${name}}}`, `/assets/${name}?v=${await version(`assets/${name!}`)}`)
    }
    await writeFile(join(out, `${page}.html`), html)
  }
  const bytes = Object.entries(result.metafile!.outputs)
    .filter(([file]) => !file.endsWith('.map'))
    .map(([file, { bytes }]) => `${file.replace(/^.*dist\/web\//, '')} ${(bytes / 1024).toFixed(1)} KiB`)
  console.error(`web: ${bytes.join(', ')}`)
}

await rm(out, { recursive: true, force: true })
const writePagesOnEnd = {
  name: 'pages',
  setup: (build: PluginBuild) => {
    build.onEnd(async result => { if (result.errors.length === 0) await writePages(result) })
  }
}
const builder = await context({ ...options, plugins: [writePagesOnEnd] })
if (process.argv.includes('--watch')) {
  await builder.watch()
} else {
  await builder.rebuild()
  await builder.dispose()
}
