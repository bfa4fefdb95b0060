// The Node.js versions package.json promises are the ones every installed package supports: a
// dependency that moved to Node 22 only (cookie 2, content-disposition 3) made `npm ci` warn
// EBADENGINE under the promised Node 20, with no test noticing.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import semver from 'semver'
import t from 'tap'
import { projectRoot } from '../src/project.js'

t.test('every package in the lock file supports the oldest release of each Node.js line in engines', async t => {
  const manifest = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { engines: { node: string } }
  const lock = JSON.parse(await readFile(join(projectRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: unknown, optional?: boolean }> }
  const promised = manifest.engines.node.split('||').map(range => semver.minVersion(range.trim())!.version)
  t.same(promised, ['22.13.0', '24.0.0', '26.0.0'], 'the supported lines, as the README states them')
  const refusing: string[] = []
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = (entry.engines as { node?: unknown } | undefined)?.node
    if (path === '' || typeof range !== 'string' || entry.optional === true) continue
    for (const version of promised) if (!semver.satisfies(version, range)) refusing.push(`${path.replace(/^.*node_modules\//, '')} wants node ${range}, not ${version}`)
  }
  t.same(refusing, [], 'no package refuses a supported Node.js version')
})
