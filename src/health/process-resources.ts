// The process's own resource readings, shared by /status, the alert evaluator and /metrics so the
// three never disagree on what "memory" or "CPU" means.
import { readFileSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { availableParallelism, totalmem } from 'node:os'
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { Meter } from '@opentelemetry/api'

let cachedLimit: number | undefined

/**
 * The memory this process may use: the container's cgroup limit (v2, then v1) when there is one,
 * else the machine's memory. An OOM kill comes at the cgroup limit, not at the machine's.
 */
export function memoryLimitBytes (): number {
  if (cachedLimit !== undefined) return cachedLimit
  const machine = totalmem()
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(readFileSync(file, 'utf8').trim()) // "max" (no limit) is NaN
      if (Number.isFinite(limit) && limit > 0 && limit < machine) return (cachedLimit = limit)
    } catch {}
  }
  return (cachedLimit = machine)
}

/** Free space of the file system holding dir, or undefined when it cannot be read. */
export async function diskSpace (
  dir: string
): Promise<{ freeBytes: number, totalBytes: number, freeRatio: number } | undefined> {
  try {
    const stats = await statfs(dir)
    const totalBytes = stats.blocks * stats.bsize
    const freeBytes = stats.bavail * stats.bsize // what an unprivileged writer can still use
    return { freeBytes, totalBytes, freeRatio: totalBytes === 0 ? 1 : freeBytes / totalBytes }
  } catch {
    return undefined
  }
}

export interface ResourceSample {
  rssBytes: number
  heapUsedBytes: number
  memoryLimitBytes: number
  /** CPU seconds per second since the previous sample: 1 is one core fully busy. */
  cpuCoresUsed: number
  /** Event-loop delay since the previous sample, in ms. */
  eventLoopDelayMs: { p50: number, p99: number, max: number }
  /** Share of time the event loop was busy since the previous sample (0..1). */
  eventLoopUtilization: number
}

/** Takes samples at whatever interval its caller chooses; each covers the time since the last. */
export class ResourceSampler {
  private readonly delay = monitorEventLoopDelay({ resolution: 10 })
  private lastCpu = process.cpuUsage()
  private lastAt = performance.now()
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization()
  private latest: ResourceSample | undefined

  constructor () { this.delay.enable() }

  sample (): ResourceSample {
    const now = performance.now()
    const cpu = process.cpuUsage(this.lastCpu)
    const elapsedMs = now - this.lastAt
    const elu = performance.eventLoopUtilization(this.lastElu)
    const memory = process.memoryUsage()
    const ms = (nanoseconds: number): number => Number.isFinite(nanoseconds) ? Math.round(nanoseconds / 1e4) / 100 : 0
    this.latest = {
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      memoryLimitBytes: memoryLimitBytes(),
      cpuCoresUsed: elapsedMs > 0 ? (cpu.user + cpu.system) / 1000 / elapsedMs : 0,
      eventLoopDelayMs: {
        p50: ms(this.delay.percentile(50)),
        p99: ms(this.delay.percentile(99)),
        max: ms(this.delay.max)
      },
      eventLoopUtilization: elu.utilization
    }
    this.lastCpu = process.cpuUsage()
    this.lastAt = now
    this.lastElu = performance.eventLoopUtilization()
    this.delay.reset()
    return this.latest
  }

  /** The last sample, or a fresh one if none was taken yet (does not start a new interval then). */
  current (): ResourceSample { return this.latest ?? this.sample() }

  stop (): void { this.delay.disable() }
}

const processObserved = new WeakSet<Meter>()

/** CPU and memory of the process (semconv process.*), for dashboards and the MemoryExhaustion and HighCpu alerts. */
export function observeProcess (meter: Meter): void {
  // Process-wide: observed once per meter, however many apps a process builds (tests build many).
  if (processObserved.has(meter)) return
  processObserved.add(meter)
  let last = { cpu: process.cpuUsage(), at: performance.now() }
  meter.createObservableGauge('process.cpu.utilization', {
    unit: '1',
    description: 'CPU time since the last observation over elapsed time and available cores'
  })
    .addCallback(result => {
      const now = { cpu: process.cpuUsage(), at: performance.now() }
      const cpuMicros = now.cpu.user - last.cpu.user + now.cpu.system - last.cpu.system
      const elapsedMicros = (now.at - last.at) * 1000
      if (elapsedMicros > 0) result.observe(cpuMicros / elapsedMicros / availableParallelism())
      last = now
    })
  meter.createObservableGauge('process.memory.usage', { unit: 'By', description: 'Resident set size' })
    .addCallback(result => { result.observe(process.memoryUsage.rss()) })
  // Prometheus's conventional name: rate() of it is cores busy, which HighCpu compares with one core.
  meter.createObservableCounter('process_cpu_seconds', { unit: 's', description: 'User and system CPU time' })
    .addCallback(result => { const { user, system } = process.cpuUsage(); result.observe((user + system) / 1e6) })
  meter.createObservableGauge('chatbot_memory_limit_bytes', {
    unit: 'By',
    description: 'The memory the process may use: the cgroup limit, else the machine\'s memory'
  })
    .addCallback(result => { result.observe(memoryLimitBytes()) })
}
