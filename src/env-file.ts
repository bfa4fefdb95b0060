// A .env file in the working folder (see .env.example) sets what the environment does not: the
// environment wins. Read by the server, the SDK preload and the CLIs when they start (never by a
// module a test imports). Node's own parser, process.loadEnvFile (Node 20.12+), not a library.
import { existsSync } from 'node:fs'

export function loadEnvFile (file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file)
}
