/**
 * One in-flight or finished promise per key, shared by every caller that asks for the same key: one
 * image build, one probe, one orphan sweep, one file read. A rejection is not kept: the entry is
 * dropped, so the next caller tries again (the registry may be back, Docker may be running now).
 */
export function memoize<K, V>(cache: Map<K, Promise<V>>, key: K, create: () => Promise<V>): Promise<V> {
  let promise = cache.get(key);
  if (promise === undefined) {
    promise = create();
    cache.set(key, promise);
    promise.catch(() => cache.delete(key));
  }
  return promise;
}
