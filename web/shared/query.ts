// The one query-string builder, for the API's URLs and the console's hash alike: a value left
// out or empty is no parameter at all, so a cleared filter leaves no `q=` behind in a link.
export type QueryValue = string | number | boolean | null | undefined

export function queryString (params: Readonly<Record<string, QueryValue>>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value))
  }
  const text = search.toString()
  return text === '' ? '' : `?${text}`
}
