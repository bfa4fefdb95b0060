import t from 'tap'
import { describeConfig, loadConfig, parseApiKeys } from '../../src/config.js'

t.test('defaults', async t => {
  t.match(loadConfig({}), { PORT: 3000, HOST: '127.0.0.1', DATA_DIR: './data', DATABASE_URL: '', MAX_ACTIVE_SESSIONS: 10_000, MAX_SESSIONS_PER_USER: 5, SESSION_IDLE_TIMEOUT: 1800, SESSION_MAX_AGE: 86_400, CHAT_REQUIRE_KEY: false })
})

t.test('a bad value stops the start with a message naming the variable and what is allowed', async t => {
  t.throws(() => loadConfig({ PORT: '70000' }), /Invalid configuration: PORT must be <= 65535/)
  t.throws(() => loadConfig({ PORT: 'http' }), /PORT must be integer/)
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL must be equal to one of the allowed values: trace, debug, info/)
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL must match pattern/)
  t.throws(() => loadConfig({ API_KEYS: 'short:admin' }), /API_KEYS .*keys of at least 16 characters/)
  t.throws(() => loadConfig({ API_KEYS: '0123456789abcdef:root' }), /roles admin or analyst/)
  t.throws(() => loadConfig({ CHAT_REQUIRE_KEY: 'true' }), /CHAT_REQUIRE_KEY=true needs at least one key in API_KEYS/)
  t.throws(() => loadConfig({ MAX_SESSIONS_PER_USER: '0' }), /MAX_SESSIONS_PER_USER must be >= 1/)
})

t.test('API keys', async t => {
  t.same(parseApiKeys(''), [])
  t.same(parseApiKeys('0123456789abcdef:admin,fedcba9876543210:analyst'), [{ key: '0123456789abcdef', role: 'admin' }, { key: 'fedcba9876543210', role: 'analyst' }])
})

t.test('the configuration as logged masks every secret', async t => {
  const config = loadConfig({ API_KEYS: '0123456789abcdef:admin', DATABASE_URL: 'postgres://app:hunter2@db.example:5432/parley', LOG_ID_SECRET: 'pepper' })
  const described = describeConfig(config)
  t.match(described, { API_KEYS: [/^key_[0-9a-f]{12}:admin$/], DATABASE_URL: 'postgres://app:****@db.example:5432/parley', LOG_ID_SECRET: '(set)' })
  t.notMatch(JSON.stringify(described), /0123456789abcdef|hunter2|pepper/)
})
