// .env.example lists every setting with its default, so it cannot drift from the schema; and a
// .env file fills in what the environment leaves unset, never what it sets.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ConfigSchema, loadConfig } from '../src/config.js'
import { loadEnvFile } from '../src/env-file.js'
import { projectRoot } from '../src/project.js'
import { tempDir } from './helper.js'

const listed = new Map([...readFileSync(join(projectRoot, '.env.example'), 'utf8').matchAll(/^# ([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, name, value]) => [name!, value!]))

t.test('.env.example names every configuration variable, and nothing else but the SDK\'s OTEL_ ones', async t => {
  const own = [...listed.keys()].filter(name => !name.startsWith('OTEL_'))
  t.same(own.sort(), Object.keys(ConfigSchema.properties).sort())
})

t.test('each with its default: loading the listed values gives the default configuration', async t => {
  const own = Object.fromEntries([...listed].filter(([name]) => !name.startsWith('OTEL_')))
  const defaults = loadConfig({})
  t.same(loadConfig(own), { ...defaults, KB_SEED_DIR: own.KB_SEED_DIR }, 'every value is the default')
  t.equal(own.KB_SEED_DIR, relative(projectRoot, defaults.KB_SEED_DIR), 'the seed folder as a path from the project')
})

t.test('a .env file sets what the environment does not, and the environment wins', async t => {
  const file = join(await tempDir(t), '.env')
  writeFileSync(file, 'PARLEY_TEST_FROM_FILE=file\nPARLEY_TEST_SET_BOTH=file\n')
  process.env.PARLEY_TEST_SET_BOTH = 'environment'
  t.teardown(() => { delete process.env.PARLEY_TEST_FROM_FILE; delete process.env.PARLEY_TEST_SET_BOTH })
  loadEnvFile(file)
  t.equal(process.env.PARLEY_TEST_FROM_FILE, 'file')
  t.equal(process.env.PARLEY_TEST_SET_BOTH, 'environment')
  t.doesNotThrow(() => loadEnvFile(join(file, 'missing')), 'no file: nothing to read')
})
