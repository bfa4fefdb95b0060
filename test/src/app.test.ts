// Sessions and history survive a restart on the embedded database's files.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { migratedDataDir, testConfig } from '../helper.js'

t.test('a conversation continues after a restart on the same DATA_DIR', async t => {
  const dataDir = await migratedDataDir(t)
  const config = testConfig({ DATA_DIR: dataDir })

  const first = await buildApp({ config })
  const turn1 = (await first.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I start parley?', user_id: 'u1' } })).json()
  t.equal(turn1.turn, 1)
  await first.close()

  const second = await buildApp({ config })
  t.teardown(() => second.close())
  const turn2 = await second.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/history', session_id: turn1.session_id } })
  t.equal(turn2.statusCode, 200)
  t.match(turn2.json(), { turn: 2, reply: /\[1\] You: how do I start parley\?/ })
  const documents = (await second.db.query<{ n: number }>('SELECT count(*)::int AS n FROM kb_documents')).rows[0]!.n
  t.equal(second.searchEngine.documentCount, documents, 'the index is rebuilt from the stored documents')
  t.ok(documents > 0, 'the bundled docs were seeded once and kept')
})
