// Temporal's client and the engine built on it, loaded on first use. Requiring @temporalio/client costs
// ≈ 0.2 s, which the CLI and the server on the embedded engine (TEMPORAL_ADDRESS unset) never need;
// engine/runtime.ts imports these instead of the real ones: same names, same types, the module is
// required when one is first constructed or one of its statics (Connection.connect) is read.
import type * as client from '@temporalio/client';
import type * as engine from './engine';

/* eslint-disable @typescript-eslint/no-require-imports -- a require on first use is this file's point */
const loadClient = () => require('@temporalio/client') as typeof client;
const loadEngine = () => require('./engine') as typeof engine;
/* eslint-enable @typescript-eslint/no-require-imports */

function lazyClass<C extends object>(load: () => C): C {
  return new Proxy(function () {} as unknown as C, {
    construct: (_target, args: unknown[]) =>
      Reflect.construct(load() as unknown as new (...a: unknown[]) => object, args),
    get: (_target, prop) => {
      const real = load();
      const v: unknown = Reflect.get(real, prop);
      return typeof v === 'function' ? ((v as () => unknown).bind(real) as unknown) : v;
    },
  });
}

export type Client = client.Client;
export const Client = lazyClass(() => loadClient().Client);
export type Connection = client.Connection;
export const Connection = lazyClass(() => loadClient().Connection);
export type TemporalEngine = engine.TemporalEngine;
export const TemporalEngine = lazyClass(() => loadEngine().TemporalEngine);
