// A link's filters that a view could not apply (typed or edited by hand), named above the view
// rather than dropped without a word: otherwise the view shows more than the link asked for.
import type { ComponentChildren } from 'preact'

export function LeftOutNotice ({ view, filters, children }: {
  view: string
  /** Each filter left out, with what it takes: "period=year (one of hour, day, week)". */
  filters: readonly string[]
  children?: ComponentChildren
}) {
  if (filters.length === 0) return null
  return (
    <p class='notice' role='status'>
      Left out of this link, which the {view} cannot apply: {filters.join('; ')}. {children}
    </p>
  )
}
