// pino-roll ships no type declarations; this covers the options Parley uses.
declare module 'pino-roll' {
  import type { SonicBoom } from 'sonic-boom'

  export interface PinoRollOptions {
    file: string | (() => string)
    size?: string | number
    frequency?: 'daily' | 'hourly' | number
    extension?: string
    dateFormat?: string
    mkdir?: boolean
    sync?: boolean
    /** Passed on to sonic-boom: fsync after each write. */
    fsync?: boolean
  }

  /**
   * sonic-boom's types omit `file`, the path being written (null until the first open has
   * finished), which pino-roll changes at each rotation, and `fd`, its descriptor (-1 while opening).
   */
  export type RollingStream = SonicBoom & { file: string | null, fd: number }

  export default function pinoRoll (options: PinoRollOptions): Promise<RollingStream>
}
