// Hands alert notifications to the notifiers without ever holding up the alert evaluator. Each
// notifier has a queue of its own, delivered in order one at a time, so a slow or broken receiver
// delays only its own channel; failures are retried with exponential backoff, and a receiver down
// for long costs a bounded queue, never unbounded memory.
import type { Logger } from 'pino'
import { log } from '../logging/log-context.js'
import type { AlertNotification } from './alert-notification.js'
import type { Notifier } from './notifiers.js'

export interface RetryPolicy {
  /** Tries per notification, the first included. */
  attempts: number
  /** Wait before the first retry; it doubles for each later one, up to maxDelayMs. */
  initialDelayMs: number
  maxDelayMs: number
}

export interface NotificationDispatcherOptions {
  notifiers: Notifier[]
  /** Base logger outside any logging context (see log()). */
  logger?: Logger
  retry?: Partial<RetryPolicy>
  /** Notifications waiting per notifier; beyond it the oldest waiting one is dropped. */
  maxQueued?: number
}

export interface NotifierStats {
  sent: number
  /** Given up on after every attempt failed (or at shutdown). */
  failed: number
  /** Pushed out of a full queue, dispatched after close, or abandoned at shutdown. */
  dropped: number
  /** Waiting or being delivered now. */
  queued: number
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 1_000, maxDelayMs: 60_000 }

interface Lane {
  notifier: Notifier
  waiting: AlertNotification[]
  current: AlertNotification | undefined
  /** The lane's worker while it has work. */
  worker: Promise<void> | undefined
  sent: number
  failed: number
  dropped: number
}

const pending = (lane: Lane): number => lane.waiting.length + (lane.current === undefined ? 0 : 1)

export class NotificationDispatcher {
  private readonly lanes: Lane[]
  private readonly retry: RetryPolicy
  private readonly maxQueued: number
  private readonly logger: Logger | undefined
  /** Ends the backoff waits early, for close(). */
  private readonly wakers = new Set<() => void>()
  private closing = false
  private abandoned = false

  constructor (options: NotificationDispatcherOptions) {
    this.lanes = options.notifiers.map(notifier => ({
      notifier, waiting: [], current: undefined, worker: undefined, sent: 0, failed: 0, dropped: 0
    }))
    this.retry = { ...DEFAULT_RETRY, ...options.retry }
    this.maxQueued = options.maxQueued ?? 100
    this.logger = options.logger
  }

  /** Queues the notification for every notifier and returns at once; never throws. */
  dispatch (notification: AlertNotification): void {
    const logger = log('alerts', 'dispatch', this.logger)
    for (const lane of this.lanes) {
      if (this.closing) {
        lane.dropped++
        logger.warn(
          { notifier: lane.notifier.name, alert: notification.alert },
          'alert notification dropped: the dispatcher is closed'
        )
        continue
      }
      if (lane.waiting.length >= this.maxQueued) {
        const oldest = lane.waiting.shift() as AlertNotification
        lane.dropped++
        logger.error({
          notifier: lane.notifier.name,
          alert: oldest.alert,
          status: oldest.status,
          at: oldest.at,
          max_queued: this.maxQueued
        }, 'alert notification queue full, dropped the oldest')
      }
      lane.waiting.push(notification)
      lane.worker ??= this.work(lane)
    }
  }

  stats (): Record<string, NotifierStats> {
    return Object.fromEntries(this.lanes.map(lane => [lane.notifier.name, {
      sent: lane.sent,
      failed: lane.failed,
      dropped: lane.dropped,
      queued: pending(lane)
    }]))
  }

  /**
   * Stops taking notifications and gives each pending one a last attempt, cutting short any
   * backoff wait; what is still pending after timeoutMs is abandoned (and logged).
   */
  async close (timeoutMs = 5_000): Promise<void> {
    this.closing = true
    for (const wake of this.wakers) wake()
    let timer: NodeJS.Timeout | undefined
    const finished = await Promise.race([
      Promise.all(this.lanes.map(lane => lane.worker)).then(() => true),
      new Promise<false>(resolve => { timer = setTimeout(resolve, timeoutMs, false) })
    ])
    clearTimeout(timer)
    if (finished) return
    this.abandoned = true
    const left = Object.fromEntries(this.lanes.map(lane => [lane.notifier.name, pending(lane)]))
    for (const lane of this.lanes) {
      lane.dropped += lane.waiting.length
      lane.waiting = []
    }
    log('alerts', 'close', this.logger)
      .error({ pending: left, timeout_ms: timeoutMs }, 'alert notifications abandoned at shutdown')
  }

  private async work (lane: Lane): Promise<void> {
    // On a later turn, so that dispatch() runs no notifier code in its caller's time.
    await new Promise(resolve => setImmediate(resolve))
    while (!this.abandoned && lane.waiting.length > 0) {
      lane.current = lane.waiting.shift()
      await this.deliver(lane, lane.current as AlertNotification)
      lane.current = undefined
    }
    lane.worker = undefined
  }

  private async deliver (lane: Lane, notification: AlertNotification): Promise<void> {
    const logger = log('alerts', 'deliver', this.logger)
    const about = { notifier: lane.notifier.name, alert: notification.alert, status: notification.status }
    for (let attempt = 1; ; attempt++) {
      try {
        await lane.notifier.send(notification)
        lane.sent++
        if (attempt > 1) logger.info({ ...about, attempt }, 'alert notification delivered after retrying')
        return
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        if (attempt >= this.retry.attempts || this.closing) {
          lane.failed++
          logger.error({ ...about, attempt, error: reason }, 'alert notification not delivered, giving up')
          return
        }
        const delayMs = Math.min(this.retry.initialDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs)
        logger.warn({ ...about, attempt, error: reason, retry_in_ms: delayMs }, 'alert notification failed, retrying')
        await this.sleep(delayMs)
      }
    }
  }

  private async sleep (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const wake = (): void => {
        clearTimeout(timer)
        this.wakers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      // A retry due later must not keep the process alive on its own.
      timer.unref()
      this.wakers.add(wake)
    })
  }
}
