// The telemetry preload (`node --import ./dist/otel/instrumentation.js`): the SDK (otel/sdk.ts), in
// the main thread only. A worker thread (the log router's) inherits the process's options, this
// preload among them, and would start an SDK of its own: a second instance exporting its own
// metrics, and the loader hook through which it would load every module. Giving workers the
// options without the preload instead failed at start-up whenever the process had one Node.js
// refuses a worker, such as `--max-old-space-size` (V8's own, and the process's, apply to its
// workers anyway).
import './compile-cache.js'
import { isMainThread } from 'node:worker_threads'

if (isMainThread) await import('./sdk.js')
