// A chat turn's database work without Parley around it, for the benchmarks that measure the
// limits of the engine beneath: pgbench runs these statements (bench:load), and a plain loop runs
// them in this process on PGlite (bench:load, bench:durability).
import type { Database, Queryable } from '../src/db/database.js'
import { migrate } from '../src/db/migrations.js'
import { MIX } from './chat-load.js'

// Session n (1-based) of the limit runs, an id both pgbench (from its :client_id) and the PGlite
// loop (from a parameter) can compute.
const sessionId = (client: string): string => `('00000000-0000-4000-8000-' || lpad((CAST(${client} AS int) + 1)::text, 12, '0'))::uuid`
// A typical answer's sizes (a ~600-character reply, three sources of ~270 bytes each), in text
// pgbench takes verbatim: no colon before a letter (a pgbench variable), no quote.
const REPLY = 'You can see a turn end to end in the trace viewer. Every response carries an x-trace-id header; open it in Jaeger or Grafana to see the spans of the request, the database statements and the search. '.repeat(3)
// (JSON indented, so that no number follows a colon straight away either.)
const SOURCES = JSON.stringify([1, 2, 3].map(n => ({ doc_id: `tracing-and-logs-${n}`, title: 'Tracing and logs', score: 3.8 - n / 2, snippet: 'Every response has an x-trace-id header, and every log line the trace id and span id of the request it belongs to, so a turn can be followed from the HTTP request to its statements.' })), null, 1)

/** The statements of a turn of session `client` (a pgbench variable reference or a parameter). */
export function turnStatements (client: string): [resume: string, record: string] {
  return [
    `SELECT * FROM sessions WHERE id = ${sessionId(client)}`,
    `WITH counted AS (
       UPDATE sessions SET turn_count = turn_count + 1, last_activity_at = now()
       WHERE id = ${sessionId(client)} AND status = 'active' AND last_activity_at > now() - interval '1800 seconds' AND created_at > now() - interval '86400 seconds'
       RETURNING id, turn_count)
     INSERT INTO messages (session_id, turn, role, content, kind, command, sources, top_score, latency_ms, created_at)
     SELECT id, turn_count, 'user', '${MIX[0]!.message}', NULL, NULL, '[]'::jsonb, NULL, NULL, now() FROM counted
     UNION ALL
     SELECT id, turn_count, 'bot', '${REPLY}', 'answer', NULL, '${SOURCES}'::jsonb, 3.82, 4.5, now() FROM counted
     RETURNING turn`
  ]
}

/** The app's schema and `sessions` active sessions, numbered as sessionId() computes them. */
export async function prepareLimitDatabase (db: Database, sessions: number): Promise<void> {
  await migrate(db)
  await db.query(`INSERT INTO sessions (id, user_id, created_at, last_activity_at)
    SELECT ${sessionId('n')}, 'bench-user-' || ((n + 1) % 10), now(), now() FROM generate_series(0, $1::int - 1) AS n`, [sessions])
}

/** The turn's statements one after another, rotating over the `sessions` prepared, for `forMs`: turns a second. */
export async function turnLoop (db: Queryable, sessions: number, forMs: number): Promise<number> {
  const [resume, record] = turnStatements('$1')
  const started = performance.now()
  let turns = 0
  while (performance.now() - started < forMs) {
    const client = turns % sessions
    await db.query(resume, [client])
    await db.query(record, [client])
    turns++
  }
  return turns * 1000 / (performance.now() - started)
}
