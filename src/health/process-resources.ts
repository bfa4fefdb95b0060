// The process's own resource readings, shared by /status, the alert evaluator and /metrics so the
// three never disagree on what "memory" or "CPU" means.
import { readFileSync } from 'node:fs'
import { statfs } from 'node:fs/promises'
import { totalmem } from 'node:os'
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks'

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
