// A request's schema errors (Ajv's, as Fastify hands them over) in the words a 400 gives: each
// field's path and what it must be, with the limit or the allowed values named.
import type { FieldError } from '../errors.js'
import { patternMessage } from './schemas.js'

export interface ValidationIssue {
  instancePath: string
  message?: string
  keyword: string
  params: Record<string, unknown>
  /** The value the issue is about (Ajv's `verbose`, which the query string's validator sets). */
  data?: unknown
}

/** "body/message must NOT have more than 4000 characters": the field path and Ajv's statement of the limit. */
function describeIssue (context: string, issue: ValidationIssue): FieldError {
  let field = `${context}${issue.instancePath}`
  if (issue.keyword === 'required') field = `${field}/${String(issue.params.missingProperty)}`
  if (issue.keyword === 'additionalProperties') field = `${field}/${String(issue.params.additionalProperty)}`
  const message = issue.keyword === 'additionalProperties'
    ? 'is not an allowed field'
    : issue.keyword === 'required'
      ? 'is required'
      : issue.keyword === 'enum'
        ? `must be one of ${(issue.params.allowedValues as unknown[]).join(', ')}`
        // Ajv's "must NOT have fewer than 1 characters" for the commonest limit of all.
        : issue.keyword === 'minLength' && issue.params.limit === 1
          ? 'must not be empty'
          : patternMessage(String(issue.params.pattern)) ?? issue.message ?? 'is invalid'
  return { field, message }
}

/**
 * Every issue described, except that a choice among constants (a union of literals, which Ajv
 * checks as anyOf: one "must be equal to constant" a branch, then "must match a schema in anyOf")
 * becomes one "must be one of …" naming them.
 */
export function describeIssues (context: string, issues: readonly ValidationIssue[]): FieldError[] {
  const atPath = (path: string): ValidationIssue[] => issues.filter(issue => issue.instancePath === path)
  const isChoice = (path: string): boolean => {
    const here = atPath(path)
    return here.some(issue => issue.keyword === 'anyOf') && here.some(issue => issue.keyword === 'const') &&
      here.every(issue => issue.keyword === 'anyOf' || issue.keyword === 'const')
  }
  const described: FieldError[] = []
  // A query parameter that takes one value, given twice (?limit=2&limit=3), arrives as a list of
  // them: said once, rather than as "must be integer" of a value the caller never wrote.
  const repeated = new Set<string>()
  for (const issue of issues) {
    if (context === 'querystring' && Array.isArray(issue.data) && issue.instancePath.lastIndexOf('/') === 0) {
      if (!repeated.has(issue.instancePath)) {
        repeated.add(issue.instancePath)
        const message = `must be given once, not ${issue.data.length} times`
        described.push({ field: `${context}${issue.instancePath}`, message })
      }
    } else if (!isChoice(issue.instancePath)) {
      described.push(describeIssue(context, issue))
    } else if (issue.keyword === 'anyOf') {
      const values = atPath(issue.instancePath)
        .flatMap(other => other.keyword === 'const' ? [other.params.allowedValue] : [])
      described.push({ field: `${context}${issue.instancePath}`, message: `must be one of ${values.join(', ')}` })
    }
  }
  return described
}

interface ObjectSchema { properties?: Record<string, unknown>, additionalProperties?: unknown, items?: unknown }

/** The value and the schema at a JSON Pointer (Ajv's instancePath), through objects and arrays. */
function at (value: unknown, schema: unknown, pointer: string): { value: unknown, schema: ObjectSchema | undefined } {
  let here = { value, schema: schema as ObjectSchema | undefined }
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    const inArray = Array.isArray(here.value)
    const next = inArray ? here.schema?.items : here.schema?.properties?.[key]
    here = { value: (here.value as Record<string, unknown> | null)?.[key], schema: next as ObjectSchema | undefined }
  }
  return here
}

/**
 * A body is validated to its first issue (plugins/validation.ts), and a missing field comes first:
 * {"mesage": "hi"} was told only that body/message is required, though what the caller got wrong
 * is the field beside it. Beside a missing field, the fields its object may not have are named too.
 */
export function withUnknownFields (
  issues: readonly ValidationIssue[], body: unknown, schema: unknown
): ValidationIssue[] {
  const missing = issues.find(issue => issue.keyword === 'required')
  if (missing === undefined) return [...issues]
  const { value, schema: objectSchema } = at(body, schema, missing.instancePath)
  const allowed = objectSchema?.properties
  if (objectSchema?.additionalProperties !== false || allowed === undefined ||
    value === null || typeof value !== 'object' || Array.isArray(value)) return [...issues]
  const unknown = Object.keys(value).filter(key => !Object.hasOwn(allowed, key)).map((key): ValidationIssue =>
    ({ instancePath: missing.instancePath, keyword: 'additionalProperties', params: { additionalProperty: key } }))
  return [...unknown, ...issues]
}
