// The tracing context in the logging context's AsyncLocalStorage: each is replaced without
// losing the other, across awaits, timers and bound functions.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api'
import { pino } from 'pino'
import { SharedStorageContextManager } from '../../../src/logging/shared-storage-context-manager.js'
import { currentLogFields, runWithLogger } from '../../../src/logging/log-context.js'

const KEY = createContextKey('test')
const manager = new SharedStorageContextManager().enable()
const logger = pino({ level: 'silent' })

t.test('outside any scope the tracing context is the root', async t => {
  t.equal(manager.active(), ROOT_CONTEXT)
})

t.test('a tracing scope inside a logging scope keeps the log fields, across awaits and timers', async t => {
  await runWithLogger(logger, async () => {
    await manager.with(ROOT_CONTEXT.setValue(KEY, 'span-1'), async () => {
      await sleep(5)
      t.equal(manager.active().getValue(KEY), 'span-1')
      t.same(currentLogFields(), { session_id: 's-1' }, 'the log fields are still there')
      await new Promise<void>(resolve => setTimeout(() => {
        t.equal(manager.active().getValue(KEY), 'span-1', 'in a timer too')
        resolve()
      }, 1))
    })
  }, { session_id: 's-1' })
})

t.test('a logging scope inside a tracing scope keeps the tracing context', async t => {
  await manager.with(ROOT_CONTEXT.setValue(KEY, 'span-2'), async () => {
    await runWithLogger(logger, async () => {
      await sleep(1)
      t.equal(manager.active().getValue(KEY), 'span-2')
      t.same(currentLogFields(), { command: 'help' })
    }, { command: 'help' })
    t.same(currentLogFields(), {}, 'the log fields end with their scope')
  })
  t.equal(manager.active(), ROOT_CONTEXT, 'and the tracing context with its own')
})

t.test('with passes this and arguments; bind carries the context to a later call', async t => {
  const target = { name: 'x', read (this: { name: string }, suffix: string) { return `${this.name}${suffix}` } }
  t.equal(manager.with(ROOT_CONTEXT, target.read, target, '!'), 'x!')
  const bound = manager.bind(ROOT_CONTEXT.setValue(KEY, 'bound'), () => manager.active().getValue(KEY))
  t.equal(bound(), 'bound')
})

t.test('attach sets the context until disposed', async t => {
  await runWithLogger(logger, async () => {
    const token = manager.attach(ROOT_CONTEXT.setValue(KEY, 'attached'))
    t.equal(manager.active().getValue(KEY), 'attached')
    t.same(currentLogFields(), { session_id: 's-3' })
    token.dispose()
    t.equal(manager.active().getValue(KEY), undefined)
    t.same(currentLogFields(), { session_id: 's-3' }, 'disposing keeps the log fields')
  }, { session_id: 's-3' })
})
