// What the language model has cost today (the UTC day), against LLM_DAILY_BUDGET_USD: at the
// budget, no more calls until midnight UTC, and the LLMBudgetNearlySpent alert warns before it.
// Several instances share the bill, so the day's figure is the transcript's (every stored turn
// keeps its cost), read again every minute, plus what this process has spent since that read.
// Each read takes only the rows since the last (and an overlap, for turns that committed a moment
// after their stamp): summing the whole day at each read took 141 ms with 100,000 model answers
// (on the embedded database, of the thread that answers chat) and grew all day; a read of the last
// 90 s takes 1 to 2 ms. The day is read whole at the first read and at midnight, when it is empty.
// A call reserves what it may cost before it is made and settles what it cost after: checking the
// spend alone let 15 calls in flight at once all pass ($60 spent against $1).
import type { Queryable } from '../db/database.js'
import { LATE_COMMIT_MS, modelSpendSince } from '../transcript/transcript-queries.js'

const DAY_MS = 86_400_000

export class DailySpend {
  private day = -1
  private stored = 0
  /** The day's spend stamped before `settledUntil` (ms), summed once; undefined: the day is read whole. */
  private settled = 0
  private settledUntil: number | undefined
  private local = 0
  // What the calls in flight may still cost; kept across a new day, which their settling ends.
  private reserved = 0

  constructor (private readonly options: { limitUsd: number, db: Queryable, now: () => Date }) {}

  get limitUsd (): number { return this.options.limitUsd }

  /**
   * Sets aside what a call may cost, before it is made: false, and nothing set aside, when that
   * would take the day past the budget. Always true without a budget.
   */
  reserve (costUsd: number): boolean {
    if (this.options.limitUsd <= 0) return true
    if (this.spentUsd() + this.reserved + costUsd > this.options.limitUsd) return false
    this.reserved += costUsd
    return true
  }

  /** A call's end: what it had reserved is released, and what it cost is spent. */
  settle (reservedUsd: number, costUsd: number): void {
    this.reserved = Math.max(0, this.reserved - reservedUsd)
    this.rollOver()
    this.local += costUsd
  }

  spentUsd (): number {
    this.rollOver()
    return this.stored + this.local
  }

  /** Spent against the budget; undefined without one. */
  usedRatio (): number | undefined {
    return this.options.limitUsd > 0 ? this.spentUsd() / this.options.limitUsd : undefined
  }

  /** Reads the day's spend from the transcript, every instance's turns. */
  async refresh (): Promise<void> {
    const now = this.options.now().getTime()
    const day = Math.floor(now / DAY_MS)
    const known = day === this.day && this.settledUntil !== undefined
    const from = known ? this.settledUntil! : day * DAY_MS
    const settleBefore = Math.max(from, now - LATE_COMMIT_MS)
    const { spent, settled } = await modelSpendSince(this.options.db, new Date(from), new Date(settleBefore))
    const before = known ? this.settled : 0
    this.day = day
    this.stored = before + spent
    this.settled = before + settled
    this.settledUntil = settleBefore
    this.local = 0
  }

  private rollOver (): void {
    const day = Math.floor(this.options.now().getTime() / DAY_MS)
    if (day === this.day) return
    this.day = day
    this.stored = 0
    this.settledUntil = undefined
    this.local = 0
  }
}
