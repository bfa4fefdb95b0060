// The console's API (/console/api/*), as TypeBox schemas: the routes validate and serialise with
// them, and the pages (web/console) import their Static types, so the two cannot drift apart.
import Type, { type Static } from 'typebox'
import { describedPattern } from '../http/schemas.js'
import { DOCUMENT_LIMITS } from '../kb/document-files.js'
import { DecisionSchema, GenerationSchema, ReplyKindSchema, SourceSchema } from '../transcript/transcript-schemas.js'
import { TurnTraceSchema } from '../turn-traces/turn-trace.js'

/** Where a page of conversations starts: the next_before of the page before, as given. */
const PAGE_CURSOR_PATTERN = describedPattern('^\\d{1,19}(_[mt][0-9a-zA-Z-]{1,64})?$',
  'must be the next_before of the page before, as it was given')
/** A turn's trace id, or its request id when it was not traced. */
const TRACE_ID_PATTERN = describedPattern('^[0-9A-Za-z-]{1,64}$',
  'must be 1 to 64 letters, digits or hyphens: a trace id, or a request id')

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('analyst')])

export const SignInBody = Type.Object({
  api_key: Type.String({ minLength: 1, maxLength: 512, description: 'An API key with the admin or analyst role' })
}, { additionalProperties: false })
export type SignInBodyType = Static<typeof SignInBody>

export const ConsoleSessionSchema = Type.Object({
  role: RoleSchema,
  key_id: Type.String({ description: 'The key\'s id (a hash prefix), never the key' }),
  expires_at: Nullable(Type.String({
    format: 'date-time',
    description: 'Null when the request carried its key (Authorization) rather than a sign-in cookie'
  })),
  /**
   * What this role is shown of users: their words as written and their id (admin), or scrubbed words
   * and pseudonyms (analyst).
   */
  chat_text: Type.Union([Type.Literal('full'), Type.Literal('scrubbed')]),
  links: Type.Object({ jaeger: Nullable(Type.String()), grafana: Nullable(Type.String()) })
})
export type ConsoleSession = Static<typeof ConsoleSessionSchema>

/** The user as the console shows them: the pseudonym always, the id the client sent only to an admin. */
export const ConsoleUserSchema = Type.Object({
  pseudonym: Nullable(Type.String()),
  id: Type.Optional(Nullable(Type.String()))
})
export type ConsoleUser = Static<typeof ConsoleUserSchema>

export const ConversationsQuery = Type.Object({
  q: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Words in the user\'s message or the reply (PostgreSQL full-text search, English stemming)'
  })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  user: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 128,
    description: 'A user: the id their client sent as user_id (the one a customer gives, shown to an admin ' +
      'only), or their pseudonym as the logs and the console show it'
  })),
  kind: Type.Optional(ReplyKindSchema),
  feedback: Type.Optional(Type.Literal('down')),
  errors: Type.Optional(Type.Boolean({ description: 'Only turns that failed (5xx) or were answered command_error' })),
  min_latency_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
  source: Type.Optional(Type.String({
    pattern: DOCUMENT_LIMITS.idPattern,
    description: 'Only turns whose nearest document (first source) is this one: a topic, as UnansweredTopic names it'
  })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
  before: Type.Optional(Type.String({
    pattern: PAGE_CURSOR_PATTERN,
    description: 'The next_before of the previous page'
  }))
}, { additionalProperties: false })
export type ConversationsQueryType = Static<typeof ConversationsQuery>

/** One turn that matched the filters, newest first; it opens its conversation. */
export const TurnRowSchema = Type.Object({
  session_id: Nullable(Type.String({
    description: 'The session id for an admin, a reference to it (c_…) for an analyst; null for a turn that ' +
      'failed before its new session was stored'
  })),
  turn: Nullable(Type.Integer()),
  at: DateTime,
  user: ConsoleUserSchema,
  message: Type.String({ description: 'The user\'s message (scrubbed for an analyst)' }),
  reply: Nullable(Type.String()),
  kind: Nullable(ReplyKindSchema),
  latency_ms: Nullable(Type.Number({
    description: 'From the request\'s arrival to the last byte of the reply (its turn trace); the turn\'s own ' +
      'time when it has none'
  })),
  feedback: Nullable(Type.Union([Type.Literal('up'), Type.Literal('down')])),
  error: Type.Boolean(),
  trace_id: Nullable(Type.String())
})
export type TurnRow = Static<typeof TurnRowSchema>

export const ConversationsPage = Type.Object({
  turns: Type.Array(TurnRowSchema),
  next_before: Nullable(Type.String()),
  /**
   * With a user filter: the user it found, so that an empty list can say whether the user or the other
   * filters are why.
   */
  user: Type.Optional(Type.Object({
    found: Type.Boolean({ description: 'Whether any session has this user (by the id given, or by pseudonym)' }),
    pseudonym: Nullable(Type.String({ description: 'The user\'s pseudonym: the one given, or that of the id given' }))
  }))
})
export type ConversationsPageType = Static<typeof ConversationsPage>

export const ConversationTurnSchema = Type.Object({
  turn: Type.Integer(),
  at: DateTime,
  message: Type.String(),
  reply: Type.String(),
  kind: Nullable(ReplyKindSchema),
  command: Nullable(Type.String()),
  sources: Type.Array(SourceSchema),
  context_turn: Nullable(Type.Integer()),
  latency_ms: Nullable(Type.Number()),
  feedback: Nullable(Type.Object({
    rating: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    comment: Nullable(Type.String())
  })),
  trace_id: Nullable(Type.String()),
  has_trace: Type.Boolean(),
  generation: Nullable(GenerationSchema),
  decision: Nullable({
    ...DecisionSchema,
    description: 'Why a question was answered or refused; null for a command, small talk, or a turn stored ' +
      'before decisions were kept'
  })
})
export type ConversationTurn = Static<typeof ConversationTurnSchema>

export const ConversationSchema = Type.Object({
  session_id: Type.String(),
  user: ConsoleUserSchema,
  status: Type.String(),
  created_at: DateTime,
  last_activity_at: DateTime,
  turns: Type.Array(ConversationTurnSchema),
  /** Turns that failed before they were stored: only their trace exists. */
  failed_turns: Type.Array(Type.Object({
    trace_id: Type.String(),
    at: DateTime,
    status_code: Type.Integer(),
    error: Nullable(Type.String())
  }))
})
export type Conversation = Static<typeof ConversationSchema>

export const TurnTraceView = Type.Object({
  ...TurnTraceSchema.properties,
  links: Type.Object({ jaeger: Nullable(Type.String()), grafana: Nullable(Type.String()) })
})
export type TurnTraceViewType = Static<typeof TurnTraceView>

export const TraceParams = Type.Object({
  trace_id: Type.String({
    pattern: TRACE_ID_PATTERN,
    description: 'A turn\'s trace id (or request id when it was not traced)'
  })
})

export const OverviewQuery = Type.Object({
  period: Type.Optional(Type.Union(
    [Type.Literal('hour'), Type.Literal('day'), Type.Literal('week')],
    { default: 'day' }
  ))
}, { additionalProperties: false })
export type OverviewQueryType = Static<typeof OverviewQuery>

export const OverviewSchema = Type.Object({
  period: Type.String(),
  from: DateTime,
  to: DateTime,
  turns: Type.Integer(),
  answer_rate: Nullable(Type.Number()),
  latency_ms: Type.Object({ p50: Nullable(Type.Number()), p95: Nullable(Type.Number()) }),
  error_rate: Nullable(Type.Number({
    description: 'Failed chat requests (5xx) over all chat requests, from the turn traces'
  })),
  active_sessions: Type.Integer(),
  feedback: Type.Object({ up: Type.Integer(), down: Type.Integer() }),
  alerts_firing: Type.Array(Type.Object({
    name: Type.String(),
    severity: Type.String(),
    since: Nullable(DateTime),
    summary: Type.String()
  })),
  turn_traces: Type.Object({
    kept: Type.Integer({
      description: 'Chat requests recorded since start, bad input and failures too (not 429 nor 503 refusals): ' +
        'each with its duration and parts'
    }),
    let_go: Type.Integer({
      description: 'Of them, turns whose spans and log lines were let go while turns waited in line: held for ' +
        'a while in case they are rated down or opened, or lost'
    }),
    lost: Type.Integer({
      description: 'Turns or spans lost since start: the queue was full, a write failed, or the span collector ' +
        'had no room'
    })
  }),
  series: Type.Array(Type.Object({
    at: DateTime,
    turns: Type.Integer(),
    answered: Type.Integer(),
    no_answer: Type.Integer(),
    errors: Type.Integer(),
    p95_ms: Nullable(Type.Number())
  }))
})
export type Overview = Static<typeof OverviewSchema>
