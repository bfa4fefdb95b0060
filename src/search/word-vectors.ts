// Users ask in their own words: "suitcases" where the FAQ says "luggage", "eat on the boat" where it
// says "café". BM25 sees no shared word; word vectors see near meanings. A text's vector is the
// SIF-weighted mean of its words' vectors (Arora et al. 2017: a frequent word says less), and the
// search engine adds its cosine to the words' score (search-engine.ts). Of the offline candidates
// measured (bench/README.md), these cost least: 5 MB, 25 ms to load once, microseconds a text.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from '../project.js'

export const WORD_VECTORS_DIR = 'src/search/word-vectors'
export const DIMENSIONS = 100
/** A unit vector's component rarely passes ±0.5; the stored bytes span that range. */
export const QUANTISATION_RANGE = 0.5
/** SIF's smoothing: words more frequent than about 1 in 1,000 weigh less and less. */
const SIF_A = 1e-3

export interface WordVectors {
  /** The unit-length vector of a text's known words, or undefined when it has none. */
  embed: (text: string) => Float32Array | undefined
  /** Each known word's frequency rank (0: the most frequent): the English the spelling knows. */
  readonly ranks: ReadonlyMap<string, number>
}

const WORD = /[a-z]+(?:['’-][a-z]+)*/g

class QuantisedWordVectors implements WordVectors {
  readonly ranks = new Map<string, number>()
  private readonly weights: Float32Array

  constructor (words: readonly string[], private readonly bytes: Int8Array) {
    // Words are stored most frequent first: Zipf's law turns a rank into a probability.
    const harmonic = Math.log(words.length)
    this.weights = new Float32Array(words.length)
    words.forEach((word, row) => {
      this.ranks.set(word, row)
      this.weights[row] = SIF_A / (SIF_A + 1 / ((row + 10) * harmonic))
    })
  }

  embed (text: string): Float32Array | undefined {
    const sum = new Float32Array(DIMENSIONS)
    let known = false
    for (const [match] of text.toLowerCase().matchAll(WORD)) {
      for (const row of this.rowsOf(match.replace(/’/g, "'").replace(/'s$/, ''))) {
        known = true
        const weight = this.weights[row] as number
        const offset = row * DIMENSIONS
        for (let i = 0; i < DIMENSIONS; i++) sum[i] = (sum[i] as number) + weight * (this.bytes[offset + i] as number)
      }
    }
    if (!known) return undefined
    const norm = Math.hypot(...sum)
    if (norm === 0) return undefined
    for (let i = 0; i < DIMENSIONS; i++) sum[i] = (sum[i] as number) / norm
    return sum
  }

  /** A hyphenated word as written, else joined ("wi-fi" is "wifi"), else each of its parts. */
  private rowsOf (word: string): number[] {
    const forms = word.includes('-') ? [word, word.replace(/-/g, '')] : [word]
    for (const form of forms) {
      const row = this.ranks.get(form)
      if (row !== undefined) return [row]
    }
    return word.includes('-') ? word.split('-').flatMap(part => this.ranks.get(part) ?? []) : []
  }
}

let shipped: WordVectors | undefined

/** The vectors that ship in src/search/word-vectors/ (scripts/build-word-vectors.ts), read once. */
export function shippedWordVectors (): WordVectors {
  if (shipped === undefined) {
    const dir = join(projectRoot, WORD_VECTORS_DIR)
    const words = readFileSync(join(dir, 'words.txt'), 'utf8').split('\n')
    const file = readFileSync(join(dir, 'vectors.bin'))
    if (file.length !== words.length * DIMENSIONS) {
      throw new Error(`${dir}: ${words.length} words but ${file.length} bytes`)
    }
    shipped = new QuantisedWordVectors(words, new Int8Array(file.buffer, file.byteOffset, file.length))
  }
  return shipped
}

/** Cosine of two unit vectors, or of a unit vector with a weighted sum of them. */
export function dot (a: Float32Array, b: Float32Array): number {
  let sum = 0
  for (let i = 0; i < DIMENSIONS; i++) sum += (a[i] as number) * (b[i] as number)
  return sum
}
