// One owner per table: the statements that read a table as their subject (FROM, DELETE FROM) or
// write it (INSERT INTO, UPDATE) sit in its owner's folder, so that a change to a table is made in
// one place. A JOIN may reach any table: a read joins a session's user or a turn's trace to the
// rows it is about. The exceptions are listed with why.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { projectRoot } from '../src/project.js'

const OWNERS: Record<string, string[]> = {
  messages: ['src/transcript/'],
  feedback: ['src/transcript/'],
  transcript_rollup: ['src/transcript/'],
  sessions: ['src/sessions/'],
  erased_sessions: ['src/sessions/'],
  erased_users: ['src/sessions/'],
  quality_rollup: ['src/alerts/'],
  alert_states: ['src/alerts/'],
  turn_traces: ['src/turn-traces/'],
  turn_trace_rollup: ['src/turn-traces/'],
  kb_documents: ['src/kb/'],
  kb_passages: ['src/kb/'],
  evaluation_runs: ['src/evaluation/'],
  evaluation_questions: ['src/evaluation/'],
  audit_events: ['src/audit/'],
  console_sign_outs: ['src/console/'],
  // A key-value table: each key is its writer's (the index's version, the pseudonym key, the scrubber's version).
  app_state: ['src/kb/', 'src/privacy/pseudonym-key.ts', 'src/transcript/'],
  schema_migrations: ['src/db/']
}

const EXCEPTIONS = new Set([
  // A turn's two messages are stored in the statement that counts the turn on its session: one
  // round trip, atomic without a transaction (SessionManager.recordTurn).
  'src/sessions/session-manager.ts → messages',
  // The console lists the turns that failed before they were stored beside those that were, in one
  // statement, so that a page boundary between them loses none (turnList).
  'src/transcript/transcript-queries.ts → turn_traces',
  // A trace is not written back for a session or a user erased while its turn was in flight.
  'src/turn-traces/turn-trace-recorder.ts → erased_sessions',
  'src/turn-traces/turn-trace-recorder.ts → erased_users'
])

/** Every table a file's SQL names as its subject: FROM, DELETE FROM, INSERT INTO, UPDATE. */
function tablesIn (source: string): Set<string> {
  return new Set([...source.matchAll(/\b(?:FROM|INTO|UPDATE)\s+([a-z_]+)\b/g)].map(match => match[1]!).filter(name => name in OWNERS))
}

async function sourceFiles (folder: string): Promise<string[]> {
  const names = await readdir(join(projectRoot, folder), { recursive: true })
  return names.filter(name => /\.tsx?$/.test(name)).map(name => join(folder, name))
}

t.test('each table is read as a subject and written in its owner\'s folder only', async t => {
  const files = [...await sourceFiles('src'), ...await sourceFiles('plugins')].filter(file => file !== 'src/db/migrations.ts')
  const found: string[] = []
  for (const file of files) {
    for (const table of tablesIn(await readFile(join(projectRoot, file), 'utf8'))) {
      const owned = OWNERS[table]!.some(owner => file.startsWith(owner))
      if (!owned && !EXCEPTIONS.has(`${file} → ${table}`)) found.push(`${file} → ${table}`)
    }
  }
  t.same(found, [])
})

t.test('the rule sees a statement of every kind, and every table the schema creates', async t => {
  t.same([...tablesIn('SELECT 1 FROM messages m JOIN sessions s ON true')], ['messages'], 'a JOIN is not its subject')
  t.same([...tablesIn('DELETE FROM feedback; INSERT INTO turn_traces; UPDATE sessions SET')].sort(), ['feedback', 'sessions', 'turn_traces'])
  const migrations = await readFile(join(projectRoot, 'src/db/migrations.ts'), 'utf8')
  const created = [...migrations.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)/g)].map(match => match[1]!)
  t.same([...new Set(created)].sort(), Object.keys(OWNERS).sort(), 'each table has an owner')
})
