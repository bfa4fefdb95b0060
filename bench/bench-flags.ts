// Every benchmark's command line, read the same way: a flag it does not know, a missing value or a
// bad number is named with the usage line, and the run stops, rather than a long run going ahead
// without what was asked for (`--smok` running the full benchmark instead of its smoke slice).
import { parseArgs } from 'node:util'
import { argsProblem } from '../src/cli/entry-point.js'

export type Flag =
  /** 'seconds': any positive number; 'count': a whole number ≥ 1, or its default (0: the step is off). */
  | { kind: 'seconds' | 'count', default: number, meaning: string }
  /** Present or not: `--telemetry`. */
  | { kind: 'switch', meaning: string }
  /** One of a few words: `--engine both`. */
  | { kind: 'choice', choices: readonly string[], default: string, meaning: string }
  /** Any text, such as a path: `--baseline ../before/dist`. */
  | { kind: 'text', default: string, meaning: string }

type FlagValue<T extends Flag> =
  T extends { kind: 'switch' } ? boolean : T extends { kind: 'choice', choices: ReadonlyArray<infer C> } ? C : T extends { kind: 'text' } ? string : number

export type FlagValues<T extends Record<string, Flag>> = { [K in keyof T]: FlagValue<T[K]> }

const usagePart = (name: string, flag: Flag): string =>
  flag.kind === 'switch' ? `[--${name}]` : `[--${name} ${flag.kind === 'choice' ? flag.choices.join('|') : flag.meaning}]`

class FlagProblem extends Error {}

/** The flags in `args`, each checked; a problem is thrown as an Error naming the flag and the usage. */
export function parseBenchFlags<const T extends Record<string, Flag>> (command: string, flags: T, args: string[]): FlagValues<T> {
  const entries = Object.entries(flags)
  const usage = (problem: string): never => {
    throw new FlagProblem(`${problem}\nUsage: npm run ${command} -- ${entries.map(([name, flag]) => usagePart(name, flag)).join(' ')}`)
  }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args,
      options: Object.fromEntries(entries.map(([name, flag]) => [name, flag.kind === 'switch'
        ? { type: 'boolean' as const, default: false }
        : { type: 'string' as const, default: String(flag.default) }]))
    }).values
  } catch (error) {
    return usage(argsProblem(error))
  }
  return Object.fromEntries(entries.map(([name, flag]) => {
    const given = values[name]!
    if (flag.kind === 'switch') return [name, given === true]
    const text = String(given)
    if (flag.kind === 'text') return [name, text]
    if (flag.kind === 'choice') {
      if (!flag.choices.includes(text)) usage(`--${name} must be one of ${flag.choices.join(', ')}, not "${text}"`)
      return [name, text]
    }
    const value = Number(text)
    // A default is what the benchmark means when not told: `--history`'s 0 turns that step off.
    if (value === flag.default) return [name, value]
    if (flag.kind === 'seconds' && !(value > 0)) usage(`--${name} must be a positive number of seconds, not "${text}"`)
    if (flag.kind === 'count' && (!Number.isInteger(value) || value < 1)) usage(`--${name} must be a whole number ≥ 1, not "${text}"`)
    return [name, value]
  })) as FlagValues<T>
}

/**
 * The benchmark's flags from its command line; on bad input, says which and how to call it, and
 * exits. `meaning` is the usage line's placeholder for a number ("seconds per round"), and what a
 * switch or a choice is for.
 */
export function benchFlags<const T extends Record<string, Flag>> (command: string, flags: T): FlagValues<T> {
  try {
    return parseBenchFlags(command, flags, process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof FlagProblem)) throw error
    console.error(error.message)
    process.exit(1)
  }
}
