#!/usr/bin/env node
// `npm run kb:import -- <folder|file.jsonl>`: loads documents straight into the configured database.
// Every document is created or replaced by id, so an import can simply be run again after fixing
// its failures. With the embedded database the server must be stopped meanwhile (one process only).
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { extname, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import cliProgress from 'cli-progress'
import { ConfigError, loadConfig } from '../config.js'
import { openDatabase } from '../db/open-database.js'
import { readDocuments } from '../kb/document-files.js'
import { KnowledgeBase, type DocumentInput } from '../kb/knowledge-base.js'
import { SearchEngine } from '../search/search-engine.js'
import { AuditTrail } from '../audit/audit-trail.js'
import { isEntryPoint, type Io } from './entry-point.js'

export interface ImportIssue { source: string, reason: string }

export interface ImportSummary { created: number, replaced: number, skipped: ImportIssue[], failed: ImportIssue[] }

export interface ImportOptions {
  path: string
  knowledgeBase: KnowledgeBase
  /** Called with 0 before the first document, then after each one. */
  onProgress?: (done: number, total: number) => void
}

/** A problem that stops the whole import (as opposed to one document failing). */
export class ImportError extends Error {}

const LISTED = 20
// Who the audit trail names for imported documents: the operator at the console, not an API key.
const AUDIT_ACTOR = 'kb:import'
const USAGE = 'Usage: npm run kb:import -- <folder of .md/.txt files | file.jsonl>'

/** True for a folder, false for a JSON Lines file; anything else is an ImportError. */
async function inspectPath (path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined)
  if (info === undefined) throw new ImportError(`${path} does not exist. ${USAGE}`)
  if (info.isDirectory()) return true
  // Anything else would be read line by line as JSON and fail on every line.
  if (!info.isFile() || !/^\.(jsonl|ndjson)$/i.test(extname(path))) throw new ImportError(`${path} is neither a folder nor a .jsonl file. ${USAGE}`)
  return false
}

async function countSources (path: string, folder: boolean): Promise<number> {
  if (folder) return (await readdir(path)).filter(name => /\.(md|txt)$/i.test(name)).length
  let count = 0
  for await (const line of createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })) if (line.trim() !== '') count++
  return count
}

/**
 * Lines without an id get one derived from their title and the start of their text, so importing
 * the same file twice replaces instead of duplicating, and a fix further down a long text still
 * replaces the old copy rather than leaving it next to the new one.
 */
export function derivedId (document: Pick<DocumentInput, 'title' | 'text'>): string {
  return createHash('sha256').update(JSON.stringify([document.title, document.text.slice(0, 1000)])).digest('hex').slice(0, 32)
}

// SQLSTATE class 22 (data exception, e.g. a NUL character) and 54 (program limit) mean PostgreSQL
// refused this document; anything else (connection lost, disk full) would fail every later one too.
function refusedDocument (error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^(22|54)/.test(code)
}

export async function importDocuments ({ path, knowledgeBase, onProgress }: ImportOptions): Promise<ImportSummary> {
  const folder = await inspectPath(path)
  const total = await countSources(path, folder)
  const summary: ImportSummary = { created: 0, replaced: 0, skipped: [], failed: [] }
  // Two sources with one id (a.md and a.txt, or a repeated JSONL id) would silently overwrite each other.
  const importedFrom = new Map<string, string>()
  let done = 0
  onProgress?.(done, total)
  for await (const result of readDocuments(path)) {
    const { source } = result
    if ('error' in result) {
      const empty = folder && await readFile(source, 'utf8').then(text => text.trim() === '', () => false)
      if (empty) summary.skipped.push({ source, reason: 'empty file' })
      else summary.failed.push({ source, reason: result.error })
    } else {
      const { document } = result
      const id = document.id ?? derivedId(document)
      const earlier = importedFrom.get(id)
      if (earlier !== undefined) {
        summary.failed.push({ source, reason: `id ${id} was already imported from ${earlier}` })
      } else {
        try {
          const created = await knowledgeBase.put(id, { title: document.title, text: document.text, metadata: document.metadata }, AUDIT_ACTOR)
          importedFrom.set(id, source)
          if (created) summary.created++
          else summary.replaced++
        } catch (error) {
          if (!refusedDocument(error)) {
            const kept = summary.created + summary.replaced
            throw new ImportError(`the import stopped at ${source}: ${(error as Error).message}. The ${kept} documents before it are stored; running the import again replaces them.`, { cause: error })
          }
          summary.failed.push({ source, reason: `the database refused it: ${(error as Error).message}` })
        }
      }
    }
    onProgress?.(++done, total)
  }
  return summary
}

function listIssues (title: string, issues: ImportIssue[]): string[] {
  if (issues.length === 0) return []
  const lines = [`${title} ${issues.length}:`, ...issues.slice(0, LISTED).map(issue => `  ${issue.source} → ${issue.reason}`)]
  if (issues.length > LISTED) lines.push(`  … and ${issues.length - LISTED} more`)
  return lines
}

export function formatSummary (summary: ImportSummary): string {
  const imported = summary.created + summary.replaced
  return [
    `Imported ${imported} document${imported === 1 ? '' : 's'} (${summary.created} created, ${summary.replaced} replaced).`,
    ...listIssues('Skipped', summary.skipped),
    ...listIssues('Failed', summary.failed)
  ].join('\n')
}

/** Runs the command; resolves to the exit code: 0 all imported, 2 some documents failed, 1 fatal. */
export async function main (argv: string[], env: Record<string, string | undefined>, io: Io = process): Promise<number> {
  const say = (text: string) => { io.stdout.write(`${text}\n`) }
  const fail = (text: string) => { io.stderr.write(`kb:import: ${text}\n`); return 1 }
  const [given, ...extra] = argv
  if (given === '--help' || given === '-h') {
    say(USAGE)
    return 0
  }
  if (given === undefined || extra.length > 0) return fail(USAGE)

  let config
  try {
    config = loadConfig(env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return fail(error.message)
  }
  if (config.DATABASE_URL === '' && config.DATA_DIR.startsWith('memory://')) {
    return fail('DATA_DIR=memory:// is forgotten when the import ends; set DATA_DIR to the server\'s folder or DATABASE_URL.')
  }
  // npm runs scripts in the project folder; INIT_CWD is where the user typed the path.
  const path = resolve(env.INIT_CWD ?? process.cwd(), given)
  const dataDir = resolve(config.DATA_DIR)
  // Checked before opening the database, so a typo does not cost a new database's initdb.
  const problem = await inspectPath(path).then(() => undefined, (error: Error) => error.message)
  if (problem !== undefined) return fail(problem)

  let db
  try {
    db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir, poolSize: 2 })
  } catch (error) {
    return fail(`could not open the database: ${(error as Error).message}`)
  }
  if (db.engine === 'pglite') io.stderr.write(`Importing into the embedded database in ${dataDir} (the server must not be running).\n`)
  const bar = io.stderr.isTTY === true
    ? new cliProgress.SingleBar({ stream: io.stderr, hideCursor: true, format: 'Importing {bar} {value}/{total} documents | {eta_formatted} left' }, cliProgress.Presets.shades_classic)
    : undefined
  try {
    const knowledgeBase = new KnowledgeBase({ db, searchEngine: new SearchEngine(), auditTrail: new AuditTrail({ db }) })
    const summary = await importDocuments({
      path,
      knowledgeBase,
      onProgress: bar && ((done, total) => done === 0 ? bar.start(total, 0) : bar.update(done))
    })
    bar?.stop()
    say(formatSummary(summary))
    return summary.failed.length > 0 ? 2 : 0
  } catch (error) {
    bar?.stop()
    return fail((error as Error).message)
  } finally {
    await db.close()
  }
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.env)
}
