// Imported first by the preload (otel/instrumentation.ts), before any other module is loaded: V8's
// compiled code for every module is then kept on disk (the OS's temporary folder, or
// NODE_COMPILE_CACHE), and a start after the first compiles nothing. It took 0.3 s off a 3 s start
// to /ready on this project's 2-core machines (bench/README.md, `npm run bench:startup`).
import { enableCompileCache } from 'node:module'

enableCompileCache()
