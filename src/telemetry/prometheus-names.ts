// Prometheus names for OpenTelemetry metrics, by the specification's "Prometheus and OpenMetrics
// Compatibility" rules as the collector's Prometheus exporter applies them (add_metric_suffixes,
// its default): the unit as a suffix (s → _seconds, By → _bytes, a gauge in 1 → _ratio), then
// _total for a counter. @opentelemetry/exporter-prometheus adds only _total and has no option for
// the rest (0.223 to 0.301), so without this the app's /metrics and the collector's (the same
// metric over OTLP) would give one metric two names, http_server_request_duration and
// http_server_request_duration_seconds.
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics'

// UCUM units (the case-sensitive c/s forms OpenTelemetry uses) as Prometheus base-unit words.
const UNIT_WORDS: Record<string, string> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  // A dimensionless 1 names no unit; a gauge in it is a ratio (below).
  1: '',
  '%': 'percent'
}
// The denominator of a rate ("By/s"), singular: bytes_per_second.
const PER_UNIT_WORDS: Record<string, string> = {
  s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year'
}

const words = (text: string): string[] => text.split(/[^A-Za-z0-9]+/).filter(word => word !== '')

/** A unit's part as name words: none for an annotation ({request}) or a blank, else its Prometheus word(s). */
function unitWords (part: string | undefined, table: Record<string, string>): string[] {
  const unit = part?.trim() ?? ''
  if (unit === '' || /[{}]/.test(unit)) return []
  return words(table[unit] ?? unit)
}

/**
 * The Prometheus name of a metric: its name in words joined by "_", the unit's word appended
 * unless the name has it already (chatbot_response_time_seconds in s stays as it is), "per_" and
 * the denominator's, "_ratio" for a gauge in 1 and "_total" for a counter, each once and last.
 */
export function prometheusName (metric: {
  descriptor: { name: string, unit: string }
  dataPointType: DataPointType
  isMonotonic?: boolean
}): string {
  let tokens = words(metric.descriptor.name)
  const { unit } = metric.descriptor
  const slash = unit.indexOf('/')
  const main = unitWords(slash === -1 ? unit : unit.slice(0, slash), UNIT_WORDS).join('_')
  const per = unitWords(slash === -1 ? undefined : unit.slice(slash + 1), PER_UNIT_WORDS).join('_')
  if (main !== '' && !tokens.includes(main)) tokens.push(main)
  if (per !== '' && !tokens.includes(per)) tokens.push('per', per)
  if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic === true) {
    tokens = [...tokens.filter(token => token !== 'total'), 'total']
  }
  // Only gauges: some instrumentations put 1 on counts of things, which are no ratios.
  if (unit === '1' && metric.dataPointType === DataPointType.GAUGE) {
    tokens = [...tokens.filter(token => token !== 'ratio'), 'ratio']
  }
  const name = tokens.join('_')
  return /^[0-9]/.test(name) ? `_${name}` : name
}

/** The same metrics under their Prometheus names; units, descriptions and data points unchanged. */
export function withPrometheusNames (resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map(scope => ({
      ...scope,
      metrics: scope.metrics.map(metric =>
        ({ ...metric, descriptor: { ...metric.descriptor, name: prometheusName(metric) } }) as MetricData)
    }))
  }
}
