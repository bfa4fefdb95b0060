// A flood of refused requests is one audit entry a minute per source, with its count; a source
// seen for the first time is recorded at once; nothing is lost at shutdown.
import t from 'tap'
import type { AuditEvent } from '../../../src/audit/audit-trail.js'
import { DenialAudit } from '../../../src/audit/denial-audit.js'
import { buildTestApp, manualClock } from '../../helper.js'

t.test('the first refusal of a source is recorded at once, its repeats in the window as one entry with their count', async t => {
  const clock = manualClock()
  const recorded: AuditEvent[] = []
  const denials = new DenialAudit({ record: async event => { recorded.push(event) }, now: clock.now, windowMs: 60_000, maxSources: 2 })
  const flood = { actor: 'anonymous', address: '203.0.113.7', target: 'GET /v1/admin/log-level', status: 401 }
  for (let i = 0; i < 1000; i++) await denials.denied(flood)
  t.equal(recorded.length, 1, 'a thousand refusals, one entry so far')
  await denials.denied({ ...flood, actor: 'unknown-key' })
  await denials.denied({ ...flood, address: '198.51.100.1' })
  await denials.denied({ ...flood, address: '198.51.100.2' }) // past maxSources: shares the others' window
  t.same(recorded.map(event => event.actor), ['anonymous', 'unknown-key', 'anonymous'])
  clock.advance(60_000)
  await denials.flush()
  t.same(recorded.slice(3).map(event => event.details?.repeated).sort(), [1, 999], 'the flood\'s repeats and the shared window\'s; windows without repeats add nothing')
  t.match(recorded.find(event => event.details?.repeated === 999), { actor: 'anonymous', action: 'auth.denied', result: 'denied', details: { status: 401, window_s: 60 } })
  await denials.denied(flood)
  t.equal(recorded.length, 6, 'a new window: recorded at once again')
  await denials.denied(flood)
  await denials.flush(true)
  t.match(recorded.at(-1), { details: { repeated: 1 } }, 'at shutdown every pending count is recorded')
})

t.test('through the app: a flood of unauthenticated admin requests grows the audit trail by two rows, not a thousand', async t => {
  const clock = manualClock()
  const app = await buildTestApp(t, { API_KEYS: 'admin-key-0123456789abcdef:admin', KB_SEED_DIR: '' }, { clock: clock.now })
  for (let i = 0; i < 1000; i++) t.equal((await app.inject({ method: 'GET', url: '/v1/admin/log-level' })).statusCode, 401, `request ${i}`)
  const count = async () => (await app.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_events WHERE action = 'auth.denied'")).rows[0]!.n
  t.equal(await count(), 1)
  clock.advance(60_000)
  await app.inject({ method: 'GET', url: '/v1/admin/log-level' })
  const { rows } = await app.db.query<{ details: Record<string, unknown> }>("SELECT details FROM audit_events WHERE action = 'auth.denied' ORDER BY id")
  t.match(rows, [{ details: { status: 401 } }, { details: { status: 401, repeated: 999 } }, { details: { status: 401 } }])
})
