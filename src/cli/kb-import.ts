#!/usr/bin/env node
// `npm run kb:import -- [--url <server>] <folder|file.md|file.jsonl>`: loads documents into the configured
// database, or with --url through a running server's API (the embedded database admits one process,
// so that is how documents reach a running server on it). Every document is created or replaced by
// id, so an import can simply be run again after fixing its failures.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import {
  DOCUMENT_LIMITS, folderFiles, isDocumentFile, isLinesFile, readDocuments, type DocumentInput
} from '../kb/document-files.js'
import { BUNDLED_COLLECTION, KnowledgeBase } from '../kb/knowledge-base.js'
import { DocumentRefusedError, KnowledgeBaseClient } from '../kb/knowledge-base-client.js'
import { SearchEngine } from '../search/search-engine.js'
import { AuditTrail } from '../audit/audit-trail.js'
import { CliError, openConfiguredDatabase } from './cli-targets.js'
import { argsProblem, isEntryPoint, runAsProgram, type Io } from './entry-point.js'

export interface ImportIssue { source: string, reason: string }

export interface ImportSummary {
  created: number
  replaced: number
  /** Replaced documents that were in another collection (an id of the bundled guide's, say). */
  moved: ImportIssue[]
  skipped: ImportIssue[]
  failed: ImportIssue[]
}

export interface ImportOptions {
  path: string
  /** Where documents go: the database (KnowledgeBase) or a running server (KnowledgeBaseClient). */
  knowledgeBase: Pick<KnowledgeBase, 'put'>
  /** The collection the documents go to; the knowledge base's default when omitted. */
  collection?: string
  /** Called with 0 before the first document, then after each one. */
  onProgress?: (done: number, total: number) => void
}

/** A problem that stops the whole import (as opposed to one document failing). */
export class ImportError extends Error { override name = 'ImportError' }

const LISTED = 20
// Who the audit trail names for imported documents: the operator at the console, not an API key.
const AUDIT_ACTOR = 'kb:import'
const USAGE = 'Usage: npm run kb:import -- [--url <running server, e.g. http://127.0.0.1:3000>] ' +
  '[--collection <name>] [--format text|json] ' +
  '<folder of .md, .txt and .jsonl files | file.md | file.txt | file.jsonl>\n' +
  'With --url, PARLEY_API_KEY must hold an admin key of that server. ' +
  '--collection puts the documents in that collection (default "default").\n' +
  'Exit status: 0 all imported; 2 some documents failed (the summary names them); ' +
  '1 the import could not run (a usage error among them).'

type Source = 'folder' | 'document' | 'lines'

/** What the path holds: a folder, one .md/.txt document, or JSON Lines; anything else is an ImportError. */
async function inspectPath (path: string): Promise<Source> {
  const info = await stat(path).catch(() => undefined)
  if (info === undefined) throw new ImportError(`${path} does not exist. ${USAGE}`)
  if (info.isDirectory()) return 'folder'
  if (info.isFile() && isDocumentFile(path)) return 'document'
  // Anything else would be read line by line as JSON and fail on every line.
  if (!info.isFile() || !isLinesFile(path)) {
    throw new ImportError(`${path} is neither a folder nor a .md, .txt or .jsonl file. ${USAGE}`)
  }
  return 'lines'
}

async function countSources (path: string, source: Source): Promise<number> {
  if (source === 'document') return 1
  if (source === 'lines') return await countLines(path)
  let count = 0
  for (const name of await folderFiles(path, { lines: true })) {
    const file = join(path, name)
    const regular = (await lstat(file)).isFile()
    count += isDocumentFile(name) || !regular ? 1 : await countLines(file)
  }
  return count
}

async function countLines (path: string): Promise<number> {
  let count = 0
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity })
  for await (const line of lines) if (line.trim() !== '') count++
  return count
}

/**
 * Lines without an id get one derived from their title and the start of their text, so importing
 * the same file twice replaces instead of duplicating, and a fix further down a long text still
 * replaces the old copy rather than leaving it next to the new one.
 */
export function derivedId (document: Pick<DocumentInput, 'title' | 'text'>): string {
  return createHash('sha256')
    .update(JSON.stringify([document.title, document.text.slice(0, 1000)]))
    .digest('hex')
    .slice(0, 32)
}

// SQLSTATE class 22 (data exception, e.g. a NUL character) and 54 (program limit) mean PostgreSQL
// refused this document; anything else (connection lost, disk full) would fail every later one too.
function refusedDocument (error: unknown): boolean {
  if (error instanceof DocumentRefusedError) return true
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^(22|54)/.test(code)
}

export async function importDocuments (
  { path, knowledgeBase, collection, onProgress }: ImportOptions
): Promise<ImportSummary> {
  const source = await inspectPath(path)
  const total = await countSources(path, source)
  // "Imported 0 documents" and exit 0 read as done: a folder of .json files, say, was not.
  if (total === 0) {
    const holds = source === 'folder' ? 'no .md, .txt or .jsonl file' : 'no document'
    throw new ImportError(`${path} holds ${holds}: nothing was imported. ${USAGE}`)
  }
  const summary: ImportSummary = { created: 0, replaced: 0, moved: [], skipped: [], failed: [] }
  // Two sources with one id (a.md and a.txt, or a repeated JSONL id) would silently overwrite each other.
  const importedFrom = new Map<string, string>()
  let done = 0
  onProgress?.(done, total)
  for await (const result of readDocuments(path, { lines: true })) {
    const { source } = result
    if ('skipped' in result) {
      summary.skipped.push({ source, reason: result.skipped })
    } else if ('error' in result) {
      summary.failed.push({ source, reason: result.error })
    } else {
      const { document } = result
      const id = document.id ?? derivedId(document)
      const earlier = importedFrom.get(id)
      if (earlier !== undefined) {
        summary.failed.push({ source, reason: `id ${id} was already imported from ${earlier}` })
      } else {
        try {
          const { created, movedFrom } = await knowledgeBase.put(id, {
            title: document.title,
            text: document.text,
            metadata: document.metadata,
            ...(collection === undefined ? {} : { collection })
          }, AUDIT_ACTOR)
          importedFrom.set(id, source)
          if (created) summary.created++
          else summary.replaced++
          if (movedFrom !== undefined) {
            const whose = movedFrom === BUNDLED_COLLECTION ? ' (Parley\'s own guide)' : ''
            summary.moved.push({ source, reason: `replaced document ${id} of collection ${movedFrom}${whose}` })
          }
        } catch (error) {
          if (!refusedDocument(error)) {
            const kept = summary.created + summary.replaced
            throw new ImportError(
              `the import stopped at ${source}: ${(error as Error).message}. ` +
              `The ${kept} documents before it are stored; running the import again replaces them.`,
              { cause: error }
            )
          }
          const reason = (error as Error).message
          summary.failed.push({
            source,
            reason: error instanceof DocumentRefusedError ? reason : `the database refused it: ${reason}`
          })
        }
      }
    }
    onProgress?.(++done, total)
  }
  return summary
}

function listIssues (title: string, issues: ImportIssue[]): string[] {
  if (issues.length === 0) return []
  const listed = issues.slice(0, LISTED).map(issue => `  ${issue.source} → ${issue.reason}`)
  const lines = [`${title} ${issues.length}:`, ...listed]
  if (issues.length > LISTED) lines.push(`  … and ${issues.length - LISTED} more`)
  return lines
}

export function formatSummary (summary: ImportSummary): string {
  const imported = summary.created + summary.replaced
  return [
    `Imported ${imported} document${imported === 1 ? '' : 's'} ` +
      `(${summary.created} created, ${summary.replaced} replaced).`,
    ...listIssues('Replaced from another collection', summary.moved),
    ...listIssues('Skipped', summary.skipped),
    ...listIssues('Failed', summary.failed)
  ].join('\n')
}

/** Runs the command; resolves to the exit code: 0 all imported, 2 some documents failed, 1 fatal. */
export async function main (
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io = process
): Promise<number> {
  const say = (text: string) => { io.stdout.write(`${text}\n`) }
  const fail = (text: string) => { io.stderr.write(`kb:import: ${text}\n`); return 1 }
  let args
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        collection: { type: 'string' },
        format: { type: 'string', default: 'text' },
        help: { type: 'boolean', short: 'h' }
      }
    })
  } catch (error) {
    return fail(`${argsProblem(error)}\n${USAGE}`)
  }
  if (args.values.help === true) {
    say(USAGE)
    return 0
  }
  const [given, ...extra] = args.positionals
  if (given === undefined || extra.length > 0) return fail(USAGE)
  const { format } = args.values
  if (format !== 'text' && format !== 'json') {
    return fail(`--format must be text or json, not ${JSON.stringify(format)}.`)
  }
  const { collection } = args.values
  if (collection !== undefined && !new RegExp(DOCUMENT_LIMITS.idPattern).test(collection)) {
    return fail(`--collection must be letters, digits and . _ : - (up to 200), not ${JSON.stringify(collection)}.`)
  }
  // npm runs scripts in the project folder; INIT_CWD is where the user typed the path.
  const path = resolve(env.INIT_CWD ?? process.cwd(), given)
  // Checked before opening the database, so a typo does not cost a new database's initdb.
  const problem = await inspectPath(path).then(() => undefined, (error: Error) => error.message)
  if (problem !== undefined) return fail(problem)

  const target = args.values.url === undefined ? await openTarget(env) : remoteTarget(args.values.url, env)
  if (typeof target === 'string') return fail(target)
  io.stderr.write(`Importing into ${target.description}.\n`)
  const bar = io.stderr.isTTY === true
    ? new cliProgress.SingleBar({
      stream: io.stderr,
      hideCursor: true,
      format: 'Importing {bar} {value}/{total} documents | {eta_formatted} left'
    }, cliProgress.Presets.shades_classic)
    : undefined
  try {
    const summary = await importDocuments({
      path,
      knowledgeBase: target.knowledgeBase,
      collection,
      onProgress: bar && ((done, total) => done === 0 ? bar.start(total, 0) : bar.update(done))
    })
    bar?.stop()
    say(format === 'json' ? JSON.stringify(summary, null, 2) : formatSummary(summary))
    return summary.failed.length > 0 ? 2 : 0
  } catch (error) {
    bar?.stop()
    return fail((error as Error).message)
  } finally {
    await target.close()
  }
}

interface ImportTarget { knowledgeBase: Pick<KnowledgeBase, 'put'>, description: string, close: () => Promise<void> }

/** The configured database; a string says why it cannot be used. */
async function openTarget (env: Record<string, string | undefined>): Promise<ImportTarget | string> {
  let opened
  try {
    opened = await openConfiguredDatabase(env, {
      inMemory: 'is forgotten when the import ends; set DATA_DIR to the server\'s folder or DATABASE_URL.'
    })
  } catch (error) {
    if (error instanceof CliError) return error.message
    throw error
  }
  const { db, description } = opened
  // KnowledgeBase keeps an index current as it writes; this process's is thrown away when the import
  // ends, unsearched, so it is built without the word vectors' work (loading them, a vector for each
  // document), the spelling's word list or the passages' sentences that a search's snippets read.
  const searchEngine = new SearchEngine({ wordVectors: false, spelling: false, passageTerms: 'per-turn' })
  return {
    knowledgeBase: new KnowledgeBase({ db, searchEngine, auditTrail: new AuditTrail({ db }) }),
    description,
    close: () => db.close()
  }
}

function remoteTarget (url: string, env: Record<string, string | undefined>): ImportTarget | string {
  // From the environment, not an option: a key on the command line is in `ps` and the shell's history.
  const apiKey = env.PARLEY_API_KEY ?? ''
  if (apiKey === '') return 'PARLEY_API_KEY must hold an admin key of the server given with --url.'
  let client
  try {
    client = new KnowledgeBaseClient({ url, apiKey })
  } catch {
    return `--url ${url} is not a URL (for example http://127.0.0.1:3000).`
  }
  return { knowledgeBase: client, description: `the server at ${new URL(url).origin}`, close: async () => {} }
}

if (isEntryPoint(import.meta.url)) await runAsProgram(main)
