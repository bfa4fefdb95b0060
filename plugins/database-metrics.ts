// The database pool's state as the semantic conventions' db.client.connection.* metrics (server
// PostgreSQL; PGlite has one embedded connection and no pool), read from the pool when metrics are
// collected. pg's instrumentation counted them at every checkout and release instead, a dozen
// counter updates per turn, so otel/sdk.ts gives it no meter; these work without the
// SDK too.
import fp from 'fastify-plugin'
import type { BatchObservableResult } from '@opentelemetry/api'

export default fp(async function databaseMetricsPlugin (app) {
  const db = app.db
  if (db.poolStats === undefined || db.pool === undefined) return
  const pool = { 'db.client.connection.pool.name': db.pool.name }
  const used = { ...pool, 'db.client.connection.state': 'used' }
  const idle = { ...pool, 'db.client.connection.state': 'idle' }
  const meter = app.metricsMeter
  const count = meter.createObservableUpDownCounter('db.client.connection.count', {
    unit: '{connection}',
    description: 'The number of connections that are currently in state described by the state attribute.'
  })
  const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
    unit: '{connection}',
    description: 'The number of current pending requests for an open connection.'
  })
  const max = meter.createObservableUpDownCounter('db.client.connection.max', {
    unit: '{connection}',
    description: 'The maximum number of open connections allowed.'
  })
  const observe = (result: BatchObservableResult) => {
    const stats = db.poolStats!()
    result.observe(count, stats.total - stats.idle, used)
    result.observe(count, stats.idle, idle)
    result.observe(pending, stats.waiting, pool)
    result.observe(max, db.pool!.max, pool)
  }
  const observed = [count, pending, max]
  meter.addBatchObservableCallback(observe, observed)
  // The meter outlives the app (tests build many in one process): a closed app stops observing.
  app.addHook('onClose', async () => { meter.removeBatchObservableCallback(observe, observed) })
}, { name: 'database-metrics', dependencies: ['metrics', 'database'] })
