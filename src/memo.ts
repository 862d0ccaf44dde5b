/**
 * A function of one object, computed once per object and kept as long as the object lives. Model
 * objects (entity types, sets) are never changed, and a new model version brings new objects, so a
 * result memoised on them is keyed by the model's version without saying so.
 */
export function memoizedByObject<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const results = new WeakMap<K, V>();
  return (key) => {
    const known = results.get(key);
    if (known !== undefined || results.has(key)) return known as V;
    const value = compute(key);
    results.set(key, value);
    return value;
  };
}
