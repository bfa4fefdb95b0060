// The options worker threads get: the process's own, without the preload that started the SDK.
import t from 'tap'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { withoutPreload } from '../../../src/telemetry/telemetry.js'

t.test('the preload is left out however it was named; every other option stays', async t => {
  const path = join(process.cwd(), 'dist/otel/instrumentation.js')
  const url = pathToFileURL(path).href
  const others = ['--enable-source-maps', '--import', 'file:///elsewhere/loader.mjs', '--max-old-space-size=512']
  for (const named of [['--import', './dist/otel/instrumentation.js'], ['--import', path], ['--import', url], [`--import=${url}`], ['--import=dist/otel/instrumentation.js']]) {
    t.same(withoutPreload([...others.slice(0, 1), ...named, ...others.slice(1)], url), others, named.join(' '))
  }
  t.same(withoutPreload(['--import', './dist/otel/other.js'], url), ['--import', './dist/otel/other.js'], 'another module is kept')
})
