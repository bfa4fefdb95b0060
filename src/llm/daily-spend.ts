// What the language model has cost today (the UTC day), against LLM_DAILY_BUDGET_USD: at the
// budget, no more calls until midnight UTC, and the LLMBudgetNearlySpent alert warns before it.
// Several instances share the bill, so the day's figure is the transcript's (every stored turn
// keeps its cost), read again every minute, plus what this process has spent since that read.
// A call reserves what it may cost before it is made and settles what it cost after: checking the
// spend alone let 15 calls in flight at once all pass ($60 spent against $1).
import type { Queryable } from '../db/database.js'
import { modelSpendSince } from '../transcript/transcript-queries.js'

const DAY_MS = 86_400_000

export class DailySpend {
  private day = -1
  private stored = 0
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
    const day = Math.floor(this.options.now().getTime() / DAY_MS)
    const spent = await modelSpendSince(this.options.db, new Date(day * DAY_MS))
    this.day = day
    this.stored = spent
    this.local = 0
  }

  private rollOver (): void {
    const day = Math.floor(this.options.now().getTime() / DAY_MS)
    if (day === this.day) return
    this.day = day
    this.stored = 0
    this.local = 0
  }
}
