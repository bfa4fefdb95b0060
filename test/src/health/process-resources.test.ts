// The process's own resource readings as /status, the alerts and /metrics share them: the memory
// limit (the cgroup's when it is lower than the machine's), free disk space of a real folder, and
// samples that each cover the time since the one before.
import { readFileSync } from 'node:fs'
import { statfsSync } from 'node:fs'
import { totalmem } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { diskSpace, memoryLimitBytes, observeProcess, ResourceSampler } from '../../../src/health/process-resources.js'
import { tempDir } from '../../helper.js'

/** Burns CPU on this thread, blocking the event loop, for about ms. */
function busy (ms: number): void {
  const cpuAtStart = process.cpuUsage()
  let spent = 0
  while (spent < ms * 1000) spent = process.cpuUsage(cpuAtStart).user
}

const pause = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))

t.test('memoryLimitBytes: the cgroup limit when one is set below the machine\'s memory, else the machine\'s', async t => {
  const limit = memoryLimitBytes()
  t.ok(Number.isInteger(limit) && limit > 0 && limit <= totalmem(), `${limit} bytes`)
  t.equal(memoryLimitBytes(), limit, 'read once, then the same')
  const cgroup = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']
    .map(file => { try { return Number(readFileSync(file, 'utf8').trim()) } catch { return NaN } })
    .find(value => Number.isFinite(value) && value > 0 && value < totalmem())
  t.equal(limit, cgroup ?? totalmem(), cgroup === undefined ? 'no cgroup limit here: the machine\'s memory' : 'the cgroup limit')
})

t.test('diskSpace: the file system holding a folder, as an unprivileged writer sees it', async t => {
  const dir = await tempDir(t)
  const space = await diskSpace(dir)
  if (space === undefined) throw new Error('no reading for a folder that exists')
  const stats = statfsSync(dir)
  t.equal(space.totalBytes, stats.blocks * stats.bsize)
  t.ok(space.freeBytes >= 0 && space.freeBytes <= space.totalBytes)
  t.ok(space.freeRatio >= 0 && space.freeRatio <= 1)
  t.equal(space.freeRatio, space.freeBytes / space.totalBytes)
  t.ok(space.freeBytes <= stats.bfree * stats.bsize, 'blocks reserved for root are not counted free')
  t.equal(await diskSpace(join(dir, 'missing', 'deeper')), undefined, 'a folder that does not exist: no reading, no throw')
})

t.test('a sample: memory, CPU since the last sample, and the event loop\'s delay and use', async t => {
  const sampler = new ResourceSampler()
  t.teardown(() => sampler.stop())
  await pause(30) // the delay monitor's timer is ticking
  busy(60)
  await pause(30)
  const sample = sampler.sample()
  const memory = process.memoryUsage()
  t.ok(sample.rssBytes > 0 && sample.rssBytes <= memory.rss * 2, 'rss in bytes')
  t.ok(sample.heapUsedBytes > 0 && sample.heapUsedBytes < sample.rssBytes)
  t.equal(sample.memoryLimitBytes, memoryLimitBytes())
  t.ok(sample.cpuCoresUsed > 0, `CPU was used: ${sample.cpuCoresUsed} cores`)
  t.ok(sample.eventLoopUtilization > 0 && sample.eventLoopUtilization <= 1, `the loop was busy: ${sample.eventLoopUtilization}`)
  t.ok(sample.eventLoopDelayMs.max >= 40, `a loop blocked for 60 ms of CPU was delayed (${sample.eventLoopDelayMs.max} ms)`)
  t.ok(sample.eventLoopDelayMs.p50 <= sample.eventLoopDelayMs.p99 && sample.eventLoopDelayMs.p99 <= sample.eventLoopDelayMs.max, 'p50 ≤ p99 ≤ max')
  t.equal(Math.round(sample.eventLoopDelayMs.max * 100) / 100, sample.eventLoopDelayMs.max, 'ms to two decimals')
  t.equal(sampler.current(), sample, 'current() is the last sample, not a new one')
})

t.test('each sample covers only the time since the one before', async t => {
  const sampler = new ResourceSampler()
  t.teardown(() => sampler.stop())
  await pause(30) // the delay monitor's timer is ticking
  busy(60)
  await pause(30)
  const first = sampler.sample()
  const second = sampler.sample()
  t.ok(first.eventLoopDelayMs.max >= 40)
  t.same(second.eventLoopDelayMs, { p50: 0, p99: 0, max: 0 }, 'no delay recorded in between: zeros, never NaN')
  t.ok(Number.isFinite(second.cpuCoresUsed) && second.cpuCoresUsed >= 0)
})

t.test('current() before any sample takes one', async t => {
  const sampler = new ResourceSampler()
  t.teardown(() => sampler.stop())
  const sample = sampler.current()
  t.ok(sample.rssBytes > 0)
  t.equal(sampler.current(), sample)
})

t.test('observeProcess: CPU, memory and the memory limit, observed once per meter', async t => {
  class Reader extends MetricReader {
    protected override async onForceFlush (): Promise<void> {}
    protected override async onShutdown (): Promise<void> {}
  }
  const reader = new Reader()
  const meter = new MeterProvider({ readers: [reader] }).getMeter('test')
  observeProcess(meter)
  observeProcess(meter)
  busy(20)
  const { resourceMetrics } = await reader.collect()
  const points = new Map(resourceMetrics.scopeMetrics.flatMap(scope => scope.metrics)
    .map(metric => [metric.descriptor.name, metric.dataPoints.map(point => point.value as number)]))
  t.same([...points.keys()].sort(),
    ['chatbot_memory_limit_bytes', 'process.cpu.utilization', 'process.memory.usage', 'process_cpu_seconds'])
  t.same(points.get('chatbot_memory_limit_bytes'), [memoryLimitBytes()], 'one point each: observed once')
  t.ok(points.get('process.memory.usage')![0]! > 0)
  t.ok(points.get('process_cpu_seconds')![0]! >= 0.02, 'the CPU this process spent')
  const utilization = points.get('process.cpu.utilization')![0]!
  t.ok(utilization > 0 && utilization <= 1, `a share of the cores (${utilization})`)
})
