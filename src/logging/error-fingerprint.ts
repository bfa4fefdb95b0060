// A stable name for "the same error": its type, its message with the varying parts (ids, numbers,
// personal data) normalised, and the first frame of our own code. Repeats group under one
// fingerprint however many users hit them.
import { createHash } from 'node:crypto'
import { sep } from 'node:path'
import { inspect } from 'node:util'
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

export interface ErrorLogFields {
  error_type: string
  error_message: string
  fingerprint: string
  frame: string | undefined
  stack: string
}

/**
 * An error as every log line carries it: its type, normalised message (scrubbed of personal
 * data), fingerprint, first frame of ours and scrubbed stack, so one error is found and grouped
 * alike wherever it was logged.
 */
export function errorLogFields (error: unknown): ErrorLogFields {
  // Something thrown that is not an Error has no stack of its own: it is described, not traced.
  if (!(error instanceof Error)) {
    const message = normaliseMessage(inspect(error, { depth: 2, breakLength: Infinity }))
    const type = error === null ? 'null' : typeof error
    return {
      error_type: type,
      error_message: message,
      fingerprint: fingerprintOf(type, message, undefined),
      frame: undefined,
      stack: ''
    }
  }
  const type = error.name || error.constructor?.name || 'Error'
  const message = normaliseMessage(error.message ?? '')
  const frame = topProjectFrame(error.stack)
  return {
    error_type: type,
    error_message: message,
    fingerprint: fingerprintOf(type, message, frame),
    frame,
    stack: scrub(error.stack ?? '')
  }
}

const fingerprintOf = (type: string, message: string, frame: string | undefined): string =>
  createHash('sha256').update(`${type}\n${message}\n${frame ?? ''}`).digest('hex').slice(0, 16)
