// Which signals the exporters send, read from OTEL_*_EXPORTER as the SDK reads those variables.
import t from 'tap'
import { dropCounter, otlpExporters } from '../../../src/telemetry/exporters.js'

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
