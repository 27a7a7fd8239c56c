import type { Histogram } from 'prom-client';
import type { Store } from '../store/types.ts';

/** The store with every call timed into `duration`, labelled with the operation's name. */
export function instrumentStore(store: Store, duration: Histogram<'operation'>): Store {
  const timed = Object.entries(store).map(([operation, value]) => {
    if (typeof value !== 'function' || operation === 'close') return [operation, value];

    const call = value as (...args: unknown[]) => Promise<unknown>;
    const timedCall = (...args: unknown[]) => {
      const done = duration.startTimer({ operation });
      return call.apply(store, args).finally(done);
    };
    return [operation, timedCall];
  });
  return Object.fromEntries(timed) as Store;
}
