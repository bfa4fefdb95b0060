// A stable name for "the same error": its type, its message with the varying parts (ids, numbers,
// personal data) normalised, and the first frame of our own code. Repeats group under one
// fingerprint however many users hit them.
import { createHash } from 'node:crypto'
import { sep } from 'node:path'
import { projectRoot } from '../project.js'
import { scrub } from './scrubber.js'

export function normaliseMessage (message: string): string {
  return scrub(message)
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b0x[0-9a-f]+\b|\b[0-9a-f]{16,}\b/gi, '<hex>')
    .replace(/\d+(\.\d+)?/g, '<n>')
}

/** The first stack frame inside the project (not node_modules), without line and column. */
export function topProjectFrame (stack: string | undefined): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const at = line.indexOf(projectRoot + sep)
    if (at === -1 || line.includes(`${sep}node_modules${sep}`)) continue
    return line.slice(at + projectRoot.length + 1).replace(/:\d+:\d+\)?$/, '').replace(/^dist\//, '')
  }
  return undefined
}

export interface ErrorLogFields { error_type: string, error_message: string, fingerprint: string, frame: string | undefined, stack: string }

/**
 * An error as every log line carries it: its type, normalised message (scrubbed of personal
 * data), fingerprint, first frame of ours and scrubbed stack, so one error is found and grouped
 * alike wherever it was logged.
 */
export function errorLogFields (error: unknown): ErrorLogFields {
  const failure = error instanceof Error ? error : new Error(String(error))
  const type = failure.name || failure.constructor?.name || 'Error'
  const message = normaliseMessage(failure.message ?? '')
  const frame = topProjectFrame(failure.stack)
  const fingerprint = createHash('sha256').update(`${type}\n${message}\n${frame ?? ''}`).digest('hex').slice(0, 16)
  return { error_type: type, error_message: message, fingerprint, frame, stack: scrub(failure.stack ?? '') }
}
