// Which signals the exporters send, read from OTEL_*_EXPORTER as the SDK reads those variables.
import t from 'tap'
import { dropCounter, nextReportMs, otlpExporters } from '../../../src/telemetry/exporters.js'

const VARIABLES = ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER'] as const

function exportersWith (variables: Partial<Record<typeof VARIABLES[number], string>>) {
  const saved = VARIABLES.map(name => [name, process.env[name]] as const)
  for (const name of VARIABLES) delete process.env[name]
  Object.assign(process.env, variables)
  try {
    const { traceExporter, metricReaders, logRecords } = otlpExporters('http/protobuf', dropCounter())
    return { traces: traceExporter !== undefined, metrics: metricReaders.length > 0, logs: logRecords }
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

t.test('every signal is exported unless its variable says none, trimmed, as the SDK reads it', async t => {
  t.same(exportersWith({}), { traces: true, metrics: true, logs: true })
  t.same(exportersWith({ OTEL_TRACES_EXPORTER: '' }), { traces: true, metrics: true, logs: true }, 'empty is unset')
  t.same(exportersWith({ OTEL_TRACES_EXPORTER: 'none' }), { traces: false, metrics: true, logs: true })
  t.same(exportersWith({ OTEL_METRICS_EXPORTER: ' none ', OTEL_LOGS_EXPORTER: 'none,otlp' }), { traces: true, metrics: false, logs: false },
    'spaces around it, or other names after it, as an .env file may leave them')
  t.same(exportersWith({ OTEL_TRACES_EXPORTER: 'otlp' }), { traces: true, metrics: true, logs: true })
  t.same(exportersWith({ OTEL_TRACES_EXPORTER: 'otlp,none', OTEL_METRICS_EXPORTER: 'otlp,none', OTEL_LOGS_EXPORTER: 'otlp, none' }),
    { traces: true, metrics: false, logs: false }, 'none after another name: traces stay on, metrics and logs go off, as in the SDK')
})

t.test('while telemetry keeps being lost, its reports come half as often each time, up to hourly', async t => {
  const minute = 60_000
  const waits: number[] = []
  for (let waited = minute, i = 0; i < 8; i++) waits.push(waited = nextReportMs(waited, minute, true))
  t.same(waits, [2, 4, 8, 16, 32, 60, 60, 60].map(m => m * minute))
  t.equal(nextReportMs(60 * minute, minute, false), minute, 'an interval without a loss starts over')
  t.equal(nextReportMs(1000, 2 * 3_600_000, true), 2 * 3_600_000, 'and an interval set longer than an hour is kept')
})
