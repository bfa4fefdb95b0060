// OpenTelemetry's context kept in the slot the logging context's AsyncLocalStorage keeps for it
// (log-context.ts) instead of in a storage of its own, so that Node propagates one
// storage into every promise, not two. Binding event emitters and functions is the SDK's own.
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { traceSlot } from './log-context.js'

export class SharedStorageContextManager extends AsyncLocalStorageContextManager {
  override active (): Context {
    return (traceSlot.get() as Context | undefined) ?? ROOT_CONTEXT
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>> (
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return traceSlot.run(context, () => fn.apply(thisArg, args))
  }

  override attach (context: Context): { dispose: () => void } {
    const previous = traceSlot.get()
    traceSlot.enter(context)
    let disposed = false
    return { dispose: () => { if (!disposed) traceSlot.enter(previous); disposed = true } }
  }

  // The storage is the logging context's too: it stays.
  override disable (): this {
    return this
  }
}
