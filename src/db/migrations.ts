// Versioned schema changes, identical on PGlite and server PostgreSQL. They live in code rather
// than .sql files so the compiled build carries them without a copy step. Never edit a shipped
// migration: add a new one.
import type { Database } from './database.js'

export interface Migration {
  version: number
  name: string
  sql: string
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id text,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'reset')),
        turn_count integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL,
        last_activity_at timestamptz NOT NULL,
        ended_at timestamptz
      );
      CREATE INDEX sessions_active_by_activity ON sessions (last_activity_at) WHERE status = 'active';
      CREATE INDEX sessions_active_by_user ON sessions (user_id) WHERE status = 'active';

      CREATE TABLE messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        turn integer NOT NULL,
        role text NOT NULL CHECK (role IN ('user', 'bot')),
        content text NOT NULL,
        kind text CHECK (kind IN ('answer', 'no_answer', 'command', 'command_error')),
        command text,
        sources jsonb NOT NULL DEFAULT '[]',
        top_score double precision,
        latency_ms double precision,
        created_at timestamptz NOT NULL,
        UNIQUE (session_id, turn, role)
      );

      CREATE TABLE feedback (
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        turn integer NOT NULL,
        rating text NOT NULL CHECK (rating IN ('up', 'down')),
        comment text,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (session_id, turn)
      );

      CREATE TABLE kb_documents (
        id text PRIMARY KEY,
        title text NOT NULL,
        body text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );

      CREATE TABLE kb_passages (
        document_id text NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        heading text,
        text text NOT NULL,
        PRIMARY KEY (document_id, ordinal)
      );

      CREATE TABLE audit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        target text,
        result text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}'
      );

      CREATE TABLE app_state (
        key text PRIMARY KEY,
        value jsonb NOT NULL
      );
    `
  },
  {
    version: 2,
    name: 'a session can be replaced by its user\'s newer one',
    sql: `
      ALTER TABLE sessions DROP CONSTRAINT sessions_status_check;
      ALTER TABLE sessions ADD CONSTRAINT sessions_status_check ` +
      `CHECK (status IN ('active', 'expired', 'reset', 'replaced'));
      CREATE INDEX sessions_by_user ON sessions (user_id, last_activity_at DESC);
    `
  },
  {
    version: 3,
    name: 'small-talk replies, follow-up questions and knowledge-base collections',
    // The bundled docs, seeded by an earlier version, are recognised by their file names.
    sql: `
      ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
      ALTER TABLE messages ADD CONSTRAINT messages_kind_check ` +
      `CHECK (kind IN ('answer', 'no_answer', 'smalltalk', 'command', 'command_error'));
      ALTER TABLE messages ADD COLUMN context_turn integer;
      ALTER TABLE kb_documents ADD COLUMN collection text NOT NULL DEFAULT 'default';
      UPDATE kb_documents SET collection = 'parley' WHERE metadata->>'source' = id || '.md' AND id IN
        ('api-keys', 'chatting', 'commands', 'configuration', 'errors', 'knowledge-base', 'running', ` +
      `'sessions', 'storage', 'tracing-and-logs');
    `
  },
  {
    version: 4,
    name: 'each turn\'s trace and log lines, and conversations searchable by their words',
    // turn_traces has no foreign key to sessions: a turn that failed may name a session that was
    // never stored. Deleting a session deletes its traces by hand (SessionManager.delete), and
    // TURN_TRACE_RETENTION_DAYS removes the rest.
    sql: `
      ALTER TABLE messages ADD COLUMN trace_id text;
      CREATE INDEX messages_text_search ON messages USING gin (to_tsvector('english', content));
      CREATE INDEX messages_bot_by_time ON messages (created_at DESC) WHERE role = 'bot';
      CREATE TABLE turn_traces (
        trace_id text PRIMARY KEY,
        session_id uuid,
        turn integer,
        status text NOT NULL CHECK (status IN ('ok', 'error')),
        status_code integer NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms double precision NOT NULL,
        spans jsonb NOT NULL DEFAULT '[]',
        logs jsonb NOT NULL DEFAULT '[]',
        error text
      );
      CREATE INDEX turn_traces_by_session ON turn_traces (session_id, turn);
      CREATE INDEX turn_traces_by_time ON turn_traces (started_at);
    `
  },
  {
    version: 5,
    name: 'how an answer was written: by the language model or from the passage, with its tokens and cost',
    sql: 'ALTER TABLE messages ADD COLUMN generation jsonb;'
  },
  {
    version: 6,
    name: 'the console: words searchable as an analyst sees them, and sign-ins ended by signing out',
    // search_text is the message as the scrubber leaves it, so that an analyst's search cannot find
    // what an analyst is not shown (an address, a card number); rows from before are filled in by
    // the app (rescrubMessages), since the scrubber is code, not SQL.
    sql: `
      ALTER TABLE messages ADD COLUMN search_text text;
      CREATE INDEX messages_scrubbed_text_search ON messages USING gin (to_tsvector('english', search_text));
      CREATE TABLE console_sign_outs (
        token_hash text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      );
    `
  },
  {
    version: 7,
    name: 'the knowledge base\'s test questions and the runs that measure its accuracy',
    // A run's per-question results are one jsonb value rather than a row each: a run is written
    // once and read whole (its report), never queried across runs by question, and 5,000 results
    // are one insert and one (compressed) value instead of 5,000 rows. The listing reads the
    // counts' columns only. Expected ids are a jsonb array, [] for a question out of scope.
    sql: `
      CREATE TABLE evaluation_runs (
        id uuid PRIMARY KEY,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        actor text NOT NULL,
        question_set text NOT NULL CHECK (question_set IN ('given', 'saved')),
        questions integer NOT NULL,
        answered_right integer NOT NULL,
        wrong_document integer NOT NULL,
        refused_but_answerable integer NOT NULL,
        out_of_scope_refused integer NOT NULL,
        accuracy double precision NOT NULL,
        answer_rate double precision,
        documents integer NOT NULL,
        results jsonb NOT NULL
      );
      CREATE INDEX evaluation_runs_by_time ON evaluation_runs (started_at DESC);
      CREATE TABLE evaluation_questions (
        id uuid PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        question text NOT NULL,
        expected jsonb NOT NULL,
        added_at timestamptz NOT NULL,
        added_by text NOT NULL,
        source text NOT NULL CHECK (source IN ('console', 'import', 'api'))
      );
      CREATE INDEX evaluation_questions_in_order ON evaluation_questions (seq);
    `
  },
  {
    version: 8,
    name: 'why a reply answered or refused, and a row for every turn: where its time went, ' +
      'and why its spans and lines were let go',
    sql: `
      ALTER TABLE messages ADD COLUMN decision jsonb;
      ALTER TABLE turn_traces ADD COLUMN parts jsonb;
      ALTER TABLE turn_traces ADD COLUMN let_go text CHECK (let_go IN ('pressure'));
    `
  },
  {
    version: 9,
    name: 'who opened a session, so that a user id another caller sends cannot end it',
    sql: `
      ALTER TABLE sessions ADD COLUMN opened_by text;
    `
  },
  {
    version: 10,
    name: 'erasure and retention: what was erased stays erased, and old conversations are found by their last turn',
    // A turn or a turn trace still in flight when its session or user is erased must not write it
    // back: erased sessions and users (by pseudonym, never the id) are remembered for a day, which
    // outlasts any turn and any trace held in memory (src/privacy/personal-data.ts). A turn trace
    // names its user's pseudonym, so that a user's failed turns, whose session was never stored,
    // are found without reading every row's log lines. The last index finds conversations past
    // CONVERSATION_RETENTION_DAYS, oldest first, whatever their status.
    sql: `
      CREATE TABLE erased_sessions (
        session_id uuid PRIMARY KEY,
        erased_at timestamptz NOT NULL
      );
      CREATE TABLE erased_users (
        pseudonym text PRIMARY KEY,
        erased_at timestamptz NOT NULL
      );
      ALTER TABLE turn_traces ADD COLUMN user_pseudonym text;
      CREATE INDEX turn_traces_by_user ON turn_traces (user_pseudonym) WHERE user_pseudonym IS NOT NULL;
      CREATE INDEX sessions_by_activity ON sessions (last_activity_at);
    `
  },
  {
    version: 11,
    name: 'the answers rated down, by time, for the alert measures',
    // The quality measures read the last seconds of feedback down at each evaluation
    // (src/alerts/quality-measures.ts): without it, every evaluation read all the feedback ever given.
    sql: `
      CREATE INDEX feedback_down_by_time ON feedback (created_at) WHERE rating = 'down';
    `
  },
  {
    version: 12,
    name: 'a message\'s scrubbed copy stored and indexed only where scrubbing changed it',
    // Most messages hold nothing to scrub: their copy doubled each row's text and its full-text
    // index entry. search_text is now NULL where it would equal content, so that a NULL no longer
    // tells a row never scrubbed: where one remains (stored before version 6), the recorded
    // scrubber version goes back to 0, and rescrubMessages scrubs every row again.
    sql: `
      INSERT INTO app_state (key, value) SELECT 'search_text_scrubber', to_jsonb(0)
        WHERE EXISTS (SELECT 1 FROM messages WHERE search_text IS NULL)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value;
      UPDATE messages SET search_text = NULL WHERE search_text = content;
      DROP INDEX messages_scrubbed_text_search;
      CREATE INDEX messages_scrubbed_text_search ON messages USING gin (to_tsvector('english', search_text)) ` +
      `WHERE search_text IS NOT NULL;
    `
  },
  {
    version: 13,
    name: 'the overview\'s counts per 5 minutes, hour and 6 hours, kept as each bucket closes',
    // The console's overview read every turn of its period at each call: 2 s for a week of 10^6
    // messages, growing with the history. Each closed bucket is counted once, then read from
    // here (src/console/console-overview.ts). Counts only: no session, user or words. The
    // latency is a histogram, bin by bin ({"bin": turns}, src/transcript/latency-histogram.ts),
    // with the smallest and largest value, for percentiles within a bin's width. The index finds
    // the ratings of the minutes still open, which are read at each call.
    sql: `
      CREATE INDEX feedback_by_time ON feedback (created_at);
      CREATE TABLE transcript_rollup (
        width_ms integer NOT NULL,
        at timestamptz NOT NULL,
        turns integer NOT NULL,
        answered integer NOT NULL,
        no_answer integer NOT NULL,
        latency jsonb NOT NULL,
        latency_min double precision,
        latency_max double precision,
        feedback_up integer NOT NULL,
        feedback_down integer NOT NULL,
        PRIMARY KEY (width_ms, at)
      );
      CREATE TABLE turn_trace_rollup (
        width_ms integer NOT NULL,
        at timestamptz NOT NULL,
        requests integer NOT NULL,
        errors integer NOT NULL,
        PRIMARY KEY (width_ms, at)
      );
    `
  },
  {
    version: 14,
    name: 'which questions an accuracy run asked, so that a run is compared with one of the same questions',
    // A run was compared with whichever ran before it: a file of 20 questions after the 59 of
    // Parley's manual read as a drop, and fired EvaluationAccuracyLow. The digest names the
    // questions and the documents they expect (src/evaluation/evaluation-store.ts); runs stored
    // before it have none, and are compared with nothing.
    sql: `
      ALTER TABLE evaluation_runs ADD COLUMN questions_digest text;
      CREATE INDEX evaluation_runs_by_questions ON evaluation_runs (questions_digest, started_at DESC);
    `
  },
  {
    version: 15,
    name: 'a turn\'s spans and log lines stored as the JSON text they were written as',
    // On the embedded database a turn's trace is written in the thread that answers chat, and
    // jsonb's parse into its binary form was a quarter of a row's cost (bench:turn-trace-writes).
    // Nothing reads inside them but the console's transcript of a failed turn, which json's
    // functions serve; json also keeps the lines exactly as pino wrote them, and takes less disk.
    sql: `
      ALTER TABLE turn_traces ALTER COLUMN spans DROP DEFAULT, ALTER COLUMN logs DROP DEFAULT;
      ALTER TABLE turn_traces ALTER COLUMN spans TYPE json USING spans::json,
        ALTER COLUMN logs TYPE json USING logs::json;
      ALTER TABLE turn_traces ALTER COLUMN spans SET DEFAULT '[]', ALTER COLUMN logs SET DEFAULT '[]';
    `
  },
  {
    version: 16,
    name: 'the messages\' full-text indexes merge their new entries in smaller batches',
    // A GIN index gathers new entries in a pending list and merges it into the index when it
    // passes gin_pending_list_limit (4 MB): on server PostgreSQL autovacuum mostly does that, on
    // the embedded database the turn whose insert crossed the limit did, holding the only thread
    // 40 to 53 ms every few thousand turns. At 512 kB each merge is an eighth of that; in
    // bench:load the turns that held the thread over 12 ms went from 15 to 4, the longest from 53
    // to 27 ms, with the same turns a second.
    sql: `
      ALTER INDEX messages_text_search SET (gin_pending_list_limit = 512);
      ALTER INDEX messages_scrubbed_text_search SET (gin_pending_list_limit = 512);
    `
  },
  {
    version: 17,
    name: 'the alert rules\' quality counts per 10 seconds, kept as each bucket closes',
    // The alert evaluator counts the answer rate, ratings down and unanswered topics in buckets
    // kept in memory, and a restart read the whole of the longest window again: 0.9 to 1.2 s with
    // 415,000 turns in the hour (bench:alerts), on the embedded database a hold of every request.
    // Each closed bucket is stored here (src/alerts/quality-rollup.ts) and a restart reads these
    // instead. Counts and the knowledge base's document ids and titles: no session, user or words.
    sql: `
      CREATE TABLE quality_rollup (
        width_ms integer NOT NULL,
        at timestamptz NOT NULL,
        answered integer NOT NULL,
        questions integer NOT NULL,
        feedback_down integer NOT NULL,
        unanswered_topics jsonb NOT NULL,
        PRIMARY KEY (width_ms, at)
      );
    `
  },
  {
    version: 18,
    name: 'each instance\'s pending and firing alerts, kept across a restart',
    // Kept only in memory, an alert firing when its instance restarted was never resolved: the
    // new process had not seen it fire, so Slack, the webhook or the mail kept it open for good;
    // one still holding was announced again. src/alerts/alert-states.ts.
    sql: `
      CREATE TABLE alert_states (
        instance text NOT NULL,
        alert text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'firing')),
        since timestamptz NOT NULL,
        last_notified timestamptz,
        value double precision NOT NULL,
        threshold double precision NOT NULL,
        summary text NOT NULL,
        PRIMARY KEY (instance, alert)
      );
    `
  },
  {
    version: 19,
    name: 'a turn\'s spans and log lines compressed with lz4 where the server has it',
    // A kept turn's spans and lines (about 6 kB) pass the 2 kB at which PostgreSQL compresses a
    // row: with its own pglz that took a third of what the row cost the server, with lz4 a
    // fraction, for the same disk (bench:turn-trace-writes -- --engine postgres). New rows only;
    // the embedded database is built without lz4 and keeps pglz. EXECUTE, as a server before
    // PostgreSQL 14 could not parse the statement (nor lists lz4).
    sql: `
      DO $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pg_settings
                   WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
          EXECUTE 'ALTER TABLE turn_traces ALTER COLUMN spans SET COMPRESSION lz4, ' ||
            'ALTER COLUMN logs SET COMPRESSION lz4';
        END IF;
      END $$;
    `
  }
]

/**
 * Applies the migrations not yet recorded, all in one transaction. The advisory lock makes
 * instances that start together wait for each other instead of racing on the same DDL.
 */
export async function migrate (db: Database, all: readonly Migration[] = migrations): Promise<number[]> {
  return await db.transaction(async tx => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('parley.migrations'))")
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations')
    const applied = new Set(rows.map(row => row.version))
    const newlyApplied: number[] = []
    for (const migration of all) {
      if (applied.has(migration.version)) continue
      await tx.exec(migration.sql)
      await tx.query(
        'INSERT INTO schema_migrations (version, name) VALUES ($1, $2)',
        [migration.version, migration.name]
      )
      newlyApplied.push(migration.version)
    }
    return newlyApplied
  })
}

export async function appliedMigrations (db: Database): Promise<number[]> {
  const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
  return rows.map(row => row.version)
}
