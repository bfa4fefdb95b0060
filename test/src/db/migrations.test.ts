import t from 'tap'
import { appliedMigrations, migrate, migrations } from '../../../src/db/migrations.js'
import { engines } from '../../helper.js'

for (const engine of engines()) {
  t.test(`migrations on ${engine.name}`, async t => {
    const db = await engine.open(t) // opened databases are already migrated
    t.same(await appliedMigrations(db), migrations.map(m => m.version), 'every migration is recorded')
    t.same(await migrate(db), [], 'running them again applies nothing')

    const { rows } = await db.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name')
    t.same(rows.map(r => r.table_name), ['alert_states', 'app_state', 'audit_events', 'console_sign_outs', 'erased_sessions', 'erased_users', 'evaluation_questions', 'evaluation_runs', 'feedback', 'kb_documents', 'kb_passages', 'messages', 'quality_rollup', 'schema_migrations', 'sessions', 'transcript_rollup', 'turn_trace_rollup', 'turn_traces'])

    const { rows: fullText } = await db.query<{ name: string, options: string[] }>(
      "SELECT relname AS name, reloptions AS options FROM pg_class WHERE relname LIKE 'messages%text_search' ORDER BY relname")
    t.same(fullText, ['messages_scrubbed_text_search', 'messages_text_search'].map(name => ({ name, options: ['gin_pending_list_limit=512'] })),
      'the full-text indexes merge new entries 512 kB at a time')

    const { rows: [server] } = await db.query<{ lz4: boolean }>(
      "SELECT 'lz4' = ANY (enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'")
    const { rows: compression } = await db.query<{ name: string, method: string }>(
      `SELECT attname AS name, attcompression::text AS method FROM pg_attribute
       WHERE attrelid = 'turn_traces'::regclass AND attname IN ('logs', 'spans') ORDER BY attname`)
    const method = server!.lz4 ? 'l' : ''
    t.same(compression, [{ name: 'logs', method }, { name: 'spans', method }],
      server!.lz4 ? 'a turn\'s spans and lines are compressed with lz4' : 'without lz4, the server\'s default')

    const extra = [...migrations, { version: 999, name: 'broken', sql: 'CREATE TABLE later (id int); SELECT no_such_function();' }]
    await t.rejects(migrate(db, extra), /no_such_function/)
    t.same(await appliedMigrations(db), migrations.map(m => m.version), 'a failing migration is not recorded')
    t.same((await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'later'")).rows, [], 'and leaves nothing half-applied')

    const next = [...migrations, { version: 999, name: 'add column', sql: 'ALTER TABLE sessions ADD COLUMN channel text' }]
    const results = await Promise.all([migrate(db, next), migrate(db, next)])
    t.same(results.flat(), [999], 'concurrent runs apply a new migration exactly once')
  })
}
