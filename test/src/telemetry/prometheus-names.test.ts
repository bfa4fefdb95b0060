// The Prometheus names of OpenTelemetry metrics: what the collector's Prometheus exporter (with
// its default add_metric_suffixes) shows for each, by OpenTelemetry's Prometheus compatibility rules.
import t from 'tap'
import { DataPointType } from '@opentelemetry/sdk-metrics'
import { prometheusName } from '../../../src/telemetry/prometheus-names.js'

const COUNTER = { dataPointType: DataPointType.SUM, isMonotonic: true }
const UP_DOWN = { dataPointType: DataPointType.SUM, isMonotonic: false }
const GAUGE = { dataPointType: DataPointType.GAUGE }
const HISTOGRAM = { dataPointType: DataPointType.HISTOGRAM }

const named = (name: string, unit: string, kind: { dataPointType: DataPointType, isMonotonic?: boolean }) =>
  prometheusName({ descriptor: { name, unit }, ...kind })

t.test('the unit becomes a suffix, before a counter\'s _total', async t => {
  t.equal(named('http.server.request.duration', 's', HISTOGRAM), 'http_server_request_duration_seconds')
  t.equal(named('process.memory.usage', 'By', GAUGE), 'process_memory_usage_bytes')
  t.equal(named('nodejs.eventloop.time', 's', COUNTER), 'nodejs_eventloop_time_seconds_total')
  t.equal(named('gc.pause', 'ms', HISTOGRAM), 'gc_pause_milliseconds')
  t.equal(named('chatbot_requests', '', COUNTER), 'chatbot_requests_total')
  t.equal(named('queue.length', '', UP_DOWN), 'queue_length', 'an up-down counter is a gauge: no _total')
  t.equal(named('parcels', 'widgets', GAUGE), 'parcels_widgets', 'a unit with no Prometheus word is used as written')
})

t.test('a unit the name has already is not added again, nor _total', async t => {
  t.equal(named('chatbot_response_time_seconds', 's', HISTOGRAM), 'chatbot_response_time_seconds')
  t.equal(named('process_cpu_seconds', 's', COUNTER), 'process_cpu_seconds_total')
  t.equal(named('chatbot_memory_limit_bytes', 'By', GAUGE), 'chatbot_memory_limit_bytes')
  t.equal(named('chatbot_requests_total', '', COUNTER), 'chatbot_requests_total')
  t.equal(named('total.requests', '', COUNTER), 'requests_total', '_total moves to the end')
})

t.test('1 is a ratio for gauges only; annotations name no unit; a rate is _per_', async t => {
  t.equal(named('process.cpu.utilization', '1', GAUGE), 'process_cpu_utilization_ratio')
  t.equal(named('chatbot_log_disk_free_ratio', '1', GAUGE), 'chatbot_log_disk_free_ratio')
  t.equal(named('cache.hits', '1', COUNTER), 'cache_hits_total', 'a counter in 1 counts things')
  t.equal(named('cache.fill', '1', UP_DOWN), 'cache_fill')
  t.equal(named('db.client.connection.count', '{connection}', UP_DOWN), 'db_client_connection_count')
  t.equal(named('network.io.rate', 'By/s', GAUGE), 'network_io_rate_bytes_per_second')
  t.equal(named('http.requests.rate', '{request}/s', GAUGE), 'http_requests_rate_per_second')
})

t.test('characters Prometheus does not allow become one _, and a leading digit gets one', async t => {
  t.equal(named('foo__bar-baz.qux', '', GAUGE), 'foo_bar_baz_qux')
  t.equal(named('2xx.responses', '', COUNTER), '_2xx_responses_total')
})
