// Marks the commands package.json's `bin` names as executable once tsc has written them (tsc
// writes plain files). npm makes a dependency's bins executable when it links them, but not the
// project's own: `npx parley-analyze` in a clone ran whatever mode a cached earlier link had left,
// and a rebuilt file was "Permission denied".
import { chmod, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { projectRoot } from '../src/project.js'

const { bin } = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> }
for (const file of Object.values(bin)) await chmod(join(projectRoot, file), 0o755)
