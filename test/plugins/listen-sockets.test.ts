// The app listens through app.listenOnSockets() with LISTEN_SOCKETS sockets on its port (this test
// is about the network, so it listens on 127.0.0.1), and none of them accepts once it has closed.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { defaultListenSockets } from '../../src/http/listen-sockets.js'
import { buildTestApp, listeningOn } from '../helper.js'

for (const [setting, sockets] of [['3', 3], ['0', defaultListenSockets()]] as const) {
  t.test(`LISTEN_SOCKETS=${setting}: ${sockets} sockets serve the app, and none is left after it closes`, async t => {
    const app = await buildTestApp(t, { LISTEN_SOCKETS: setting })
    await app.listenOnSockets({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    t.equal(await listeningOn(port), sockets)
    const statuses = await Promise.all(Array.from({ length: 20 }, async () =>
      (await fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' } })).status))
    t.same(statuses, statuses.map(() => 200), 'every request served')
    await app.close()
    t.equal(await listeningOn(port), 0)
  })
}
