// The real server process (this test is about the network and signals, so it listens on a port):
// SIGTERM lets in-flight turns finish, then exits 0 with the database closed.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { projectRoot } from '../../src/project.js'

t.test('SIGTERM finishes in-flight turns and exits 0', async t => {
  const child = spawn(process.execPath, [join(projectRoot, 'dist/src/server.js')], {
    env: { ...process.env, PORT: '0', DATA_DIR: t.testdir(), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let output = ''
  child.stdout.setEncoding('utf8')
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      output += chunk
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match !== null) resolve(match[1]!)
    })
    child.once('exit', code => reject(new Error(`server exited with ${code} before listening:\n${output}`)))
  })
  const base = await listening

  const turns = Array.from({ length: 20 }, (_, i) => fetch(`${base}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: `how do I configure the port? (${i})` })
  }))
  // Once one turn is answered, the others are inside the server, queued on the database.
  await Promise.race(turns)
  child.kill('SIGTERM')
  const statuses = (await Promise.allSettled(turns)).map(r => r.status === 'fulfilled' ? r.value.status : 'refused')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'exit code 0')
  t.notOk(statuses.includes(500), 'no turn failed because of the shutdown')
  t.ok(statuses.filter(s => s === 200).length > 1, `turns in flight at SIGTERM completed: ${statuses.join(' ')}`)
  t.notOk(statuses.includes('refused'), 'no connection was cut')
  t.match(output, /"signal":"SIGTERM","msg":"shutting down"/)
})
