// log(): the module's logger, with the context's fields on every line, that follows the level set
// at run time for its module, else its base's, however long it has been in use.
import t from 'tap'
import { createLogger } from '../../../src/logging/logger.js'
import { log, runWithLogger, setModuleLevel } from '../../../src/logging/log-context.js'

function capture () {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  return { logger, lines }
}

t.test('lines carry the module, the function and the context\'s fields, the request id among them', async t => {
  const { logger, lines } = capture()
  for (const reqId of ['r-1', 'r-2']) {
    runWithLogger(logger, () => log('chat', 'handleTurn').info({ n: 1 }, 'hello'), { req_id: reqId, session_id: `s-${reqId}` })
  }
  log('chat', 'handleTurn', logger).info('outside')
  t.match(lines, [
    { module: 'chat', fn: 'handleTurn', req_id: 'r-1', session_id: 's-r-1', n: 1, msg: 'hello' },
    { module: 'chat', fn: 'handleTurn', req_id: 'r-2', session_id: 's-r-2', msg: 'hello' },
    { module: 'chat', fn: 'handleTurn', msg: 'outside' }
  ])
  t.notOk('req_id' in lines[2]!, 'a line outside any context has no request id')
  t.equal(log('chat', 'handleTurn', logger), log('chat', 'handleTurn', logger), 'one logger per module and function, not one per call')
})

t.test('a module\'s level applies to its loggers already in use; reset, they follow the base\'s level again', async t => {
  t.teardown(() => setModuleLevel('search_engine', undefined)) // module levels are process-wide
  const { logger, lines } = capture()
  const debugLines = () => lines.filter(line => line.level === 'debug').map(line => line.msg)
  const logAll = (n: number) => {
    log('search_engine', 'search', logger).debug(`search ${n}`)
    log('chat', 'handleTurn', logger).debug(`chat ${n}`)
  }
  logAll(1)
  setModuleLevel('search_engine', 'debug')
  logAll(2)
  t.same(debugLines(), ['search 2'], 'the module at debug, the others at the base\'s info')
  logger.level = 'debug'
  logAll(3)
  t.same(debugLines(), ['search 2', 'search 3', 'chat 3'], 'a change of the base\'s level reaches loggers made before it')
  setModuleLevel('search_engine', 'warn')
  logAll(4)
  setModuleLevel('search_engine', undefined)
  logger.level = 'info'
  logAll(5)
  logger.level = 'debug'
  logAll(6)
  t.same(debugLines(), ['search 2', 'search 3', 'chat 3', 'chat 4', 'search 6', 'chat 6'], 'reset, the module follows the base\'s level again')
})
