// @peculiar/x509 uses tsyringe, which needs the decorator-metadata functions of Reflect
// (getMetadata, getOwnMetadata, defineMetadata). No metadata polyfill package is installed, so this module
// installs a minimal one; it must be imported before @peculiar/x509.
type Target = object;
const store = new WeakMap<Target, Map<string | symbol | undefined, Map<unknown, unknown>>>();

function table(target: Target, property: string | symbol | undefined, create: boolean) {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

interface MetadataReflect {
  getMetadata?: unknown;
  getOwnMetadata?: unknown;
  defineMetadata?: unknown;
  hasMetadata?: unknown;
}

const R = Reflect as unknown as MetadataReflect;
if (typeof R.getMetadata !== 'function') {
  const getOwn = (key: unknown, target: Target, property?: string | symbol) =>
    table(target, property, false)?.get(key);
  const get = (key: unknown, target: Target, property?: string | symbol): unknown => {
    for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
      const entries = table(t, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  };
  R.getOwnMetadata = getOwn;
  R.getMetadata = get;
  R.hasMetadata = (key: unknown, target: Target, property?: string | symbol) =>
    get(key, target, property) !== undefined;
  R.defineMetadata = (key: unknown, value: unknown, target: Target, property?: string | symbol) => {
    table(target, property, true)!.set(key, value);
  };
}

export {};
