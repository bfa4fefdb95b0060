// A database that has served for a while: ended sessions with their messages, ratings and turn
// traces spread over the last week, written straight into the app's schema, for bench:load
// --history to measure a turn against it and against an empty one.
import type { Database } from '../src/db/database.js'
import { migrate } from '../src/db/migrations.js'
import { SCRUBBER_VERSION } from '../src/logging/scrubber.js'
import { MIX } from './chat-load.js'

const TURNS_PER_SESSION = 5
const WEEK_SECONDS = 7 * 86_400
// Rows a statement writes: bounded, so that PGlite's memory and one transaction's size stay small.
const SESSIONS_PER_BATCH = 5_000

/**
 * Writes about `messages` messages (two a turn, five turns a session), a rating on every tenth
 * turn and a turn trace for every turn, the sessions ended, the rows spread over the last 7 days.
 * The messages' words vary (the analyst's full-text indexes hold realistic entries).
 */
export async function fillHistory (db: Database, messages: number): Promise<{ sessions: number, messages: number }> {
  await migrate(db)
  const sessions = Math.ceil(messages / (2 * TURNS_PER_SESSION))
  const questions = MIX.map(turn => turn.message)
  for (let from = 0; from < sessions; from += SESSIONS_PER_BATCH) {
    const to = Math.min(sessions, from + SESSIONS_PER_BATCH)
    await db.transaction(async tx => {
      await tx.query('CREATE TEMP TABLE IF NOT EXISTS filled (id uuid, at timestamptz) ON COMMIT DROP')
      await tx.query(`INSERT INTO filled SELECT gen_random_uuid(), now() - (n * 7919 % $3) * interval '1 second' - interval '1 hour'
        FROM generate_series($1::int, $2::int - 1) AS n`, [from, to, WEEK_SECONDS])
      await tx.query(`INSERT INTO sessions (id, user_id, status, turn_count, created_at, last_activity_at, ended_at, opened_by)
        SELECT id, 'history-user-' || (hashtext(id::text) & 4095), 'expired', $1, at, at + interval '5 minutes', at + interval '35 minutes', 'key:bench'
        FROM filled`, [TURNS_PER_SESSION])
      await tx.query(`INSERT INTO messages (session_id, turn, role, content, kind, command, sources, top_score, latency_ms, created_at, trace_id)
        SELECT f.id, t, r.role,
          CASE r.role WHEN 'user' THEN ($2::text[])[1 + ((hashtext(f.id::text) & 65535) + t) % array_length($2::text[], 1)] || ' ' || md5(f.id::text || t)
            ELSE 'The answer to turn ' || t || ' quotes the knowledge base: ' || md5(f.id::text || t || 'bot') END,
          CASE r.role WHEN 'bot' THEN (ARRAY['answer', 'answer', 'no_answer', 'command'])[1 + t % 4] END,
          NULL,
          CASE r.role WHEN 'bot' THEN '[{"doc_id":"tracing-and-logs","title":"Tracing and logs","score":3.1,"snippet":"Every response…"}]'::jsonb
            ELSE '[]'::jsonb END,
          CASE r.role WHEN 'bot' THEN 3.1 END, CASE r.role WHEN 'bot' THEN 4.5 END,
          f.at + t * interval '1 minute', 'history-' || f.id || '-' || t
        FROM filled f, generate_series(1, $1::int) AS t, (VALUES ('user'), ('bot')) AS r(role)`, [TURNS_PER_SESSION, questions])
      await tx.query(`INSERT INTO feedback (session_id, turn, rating, comment, created_at)
        SELECT id, 1, CASE WHEN hashtext(id::text) & 3 = 0 THEN 'down' ELSE 'up' END, NULL, at + interval '2 minutes'
        FROM filled WHERE hashtext(id::text) & 1 = 0`)
      await tx.query(`INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms, spans, logs)
        SELECT 'history-' || f.id || '-' || t, f.id, t, 'ok', 200, f.at + t * interval '1 minute', 5.5,
          '[{"span_id":"0000000000000001","name":"chat.turn","kind":"internal","start_ms":0,"duration_ms":5,"status":"ok","attributes":{}}]'::jsonb,
          '[{"msg":"chat.reply_sent","level":"info"}]'::jsonb
        FROM filled f, generate_series(1, $1::int) AS t`, [TURNS_PER_SESSION])
    })
  }
  // The app stores each message with its scrubbed copy, by the scrubber of the day: these are as
  // if written by this one, so the server does not scrub them all again at its start.
  await db.query(`INSERT INTO app_state (key, value) VALUES ('search_text_scrubber', to_jsonb($1::int))
    ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [SCRUBBER_VERSION])
  await db.query('ANALYZE')
  return { sessions, messages: sessions * TURNS_PER_SESSION * 2 }
}
