import t from 'tap'
import { ConfigSchema, describeConfig, loadConfig } from '../../../src/config.js'
import { maskUrl } from '../../../src/logging/mask-credentials.js'

t.test('every credential form of a URL is masked; a URL without one is shown as given', async t => {
  t.equal(maskUrl('postgres://parley:s3cret@db:5432/parley'), 'postgres://parley:****@db:5432/parley')
  t.equal(maskUrl('postgres://parley@db/parley?password=s3cret&sslmode=require'), 'postgres://parley@db/parley?password=****&sslmode=require')
  t.equal(maskUrl('http://user:token123@collector:4318'), 'http://user:****@collector:4318/')
  t.equal(maskUrl('https://hooks.example.com/services/T0/B0/XYZ?api_key=abc', { maskPath: true }), 'https://hooks.example.com/****?api_key=****')
  t.equal(maskUrl('http://jaeger:16686/trace/{trace_id}'), 'http://jaeger:16686/trace/{trace_id}', 'nothing to mask: as written')
  t.equal(maskUrl('not a url with password=x'), '****', 'what cannot be read is masked whole')
  t.equal(maskUrl(''), '')
})

t.test('the configuration as shown masks the credentials of every URL-valued setting', async t => {
  const urlSettings = Object.entries(ConfigSchema.properties).filter(([, schema]) => String((schema as { pattern?: string }).pattern).includes('://')).map(([name]) => name)
  t.ok(urlSettings.length >= 4, `URL settings: ${urlSettings.join(', ')}`)
  for (const name of urlSettings) {
    const scheme = name === 'DATABASE_URL' ? 'postgres' : 'https'
    for (const value of [`${scheme}://user:pw-in-userinfo@host/path`, `${scheme}://host/path?password=pw-in-query&token=tok-in-query`]) {
      // A setting that admits origins only (CHAT_WIDGET_ORIGINS) refuses credentials outright: also safe.
      // LLM_BASE_URL needs a model named beside it.
      const config = (() => { try { return loadConfig({ LLM_MODEL: 'a-model', [name]: value }) } catch (error) { return error as Error } })()
      if (config instanceof Error) t.match(config.message, new RegExp(`${name} must match pattern`), `${name} refuses ${value}`)
      else t.notMatch(JSON.stringify(describeConfig(config)), /pw-in-userinfo|pw-in-query|tok-in-query/, `${name}=${value}`)
    }
  }
})
