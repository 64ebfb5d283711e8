/**
 * Every callable of every entry point, found by enumeration: exported
 * functions, classes (constructor, statics, prototype methods and getters up
 * their chain), and the functions inside exported plain objects. A new
 * export shows up here without anyone listing it.
 */
import { EventEmitter } from 'node:events';

/** The package's entry points, as package.json `exports` names them. */
export const entryPoints: Record<string, () => Record<string, unknown>> = {
  index: () => require('../../src/index'),
  fastify: () => require('../../src/fastify/index'),
  express: () => require('../../src/express/index'),
  client: () => require('../../src/client/index'),
  serenity: () => require('../../src/serenity/index'),
  p256: () => require('../../src/serenity/p256'),
  relay: () => require('../../src/relay/index'),
};

export type TargetKind = 'function' | 'constructor' | 'static' | 'method' | 'getter';

export interface Target {
  /** `entry:name`, `entry:new Class`, `entry:Class.static`, `entry:Class#method`, `entry:obj.fn`. */
  id: string;
  /** One child process runs one group: an entry point's top-level export. */
  group: string;
  kind: TargetKind;
  /** The class of a method or getter. */
  className?: string;
  fn: (...args: unknown[]) => unknown;
  /** The object a function of a plain object is called on. */
  owner?: object;
}

const isClass = (v: unknown): v is new (...args: unknown[]) => object => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));

/**
 * Where the walk up a class's chain stops: what is inherited from these is
 * Node's own API, not keyward's (a `RelayConnection` or `Messenger` is an
 * `EventEmitter`, whose `on(name, 42)` throws Node's documented TypeError).
 */
const stopProtos = new Set<object | null>([Object.prototype, Error.prototype, Function.prototype, Error, EventEmitter, EventEmitter.prototype, null]);

function classTargets(entry: string, name: string, cls: new (...args: unknown[]) => object): Target[] {
  const group = `${entry}:${name}`;
  const out: Target[] = [{ id: `${entry}:new ${name}`, group, kind: 'constructor', fn: cls as never }];
  const seenStatic = new Set(['length', 'name', 'prototype']);
  for (let c: object | null = cls; c !== null && !stopProtos.has(c); c = Object.getPrototypeOf(c)) {
    for (const key of Object.getOwnPropertyNames(c)) {
      if (seenStatic.has(key)) continue;
      seenStatic.add(key);
      const d = Object.getOwnPropertyDescriptor(c, key)!;
      if (typeof d.value === 'function') out.push({ id: `${entry}:${name}.${key}`, group, kind: 'static', fn: d.value, owner: cls });
    }
  }
  const seen = new Set(['constructor']);
  for (let p: object | null = cls.prototype; !stopProtos.has(p); p = Object.getPrototypeOf(p)) {
    for (const key of Object.getOwnPropertyNames(p!)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const d = Object.getOwnPropertyDescriptor(p!, key)!;
      if (typeof d.value === 'function') out.push({ id: `${entry}:${name}#${key}`, group, kind: 'method', className: name, fn: d.value });
      else if (d.get) out.push({ id: `${entry}:${name}#${key}`, group, kind: 'getter', className: name, fn: d.get });
    }
  }
  return out;
}

function objectTargets(entry: string, group: string, path: string, value: object, depth: number): Target[] {
  const out: Target[] = [];
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'function') out.push({ id: `${entry}:${path}.${key}`, group, kind: 'function', fn: v as never, owner: value });
    else if (typeof v === 'object' && v !== null && depth < 3 && !(v instanceof Promise))
      out.push(...objectTargets(entry, group, `${path}.${key}`, v, depth + 1));
  }
  return out;
}

/** Every target of every entry point. `default` re-exports are skipped when they are another export. */
export function enumerate(): Target[] {
  const out: Target[] = [];
  for (const [entry, load] of Object.entries(entryPoints)) {
    const mod = load();
    for (const name of Object.keys(mod)) {
      const v = mod[name];
      if (name === 'default' && Object.keys(mod).some((other) => other !== 'default' && mod[other] === v)) continue;
      if (isClass(v)) out.push(...classTargets(entry, name, v));
      else if (typeof v === 'function') out.push({ id: `${entry}:${name}`, group: `${entry}:${name}`, kind: 'function', fn: v as never });
      else if (typeof v === 'object' && v !== null && !(v instanceof Promise)) out.push(...objectTargets(entry, `${entry}:${name}`, name, v, 1));
    }
  }
  return out;
}

/** The error classes: constructors whose arguments are a message and a code, like `Error`'s. */
export const isErrorClass = (t: Target) => t.kind === 'constructor' && (t.fn as unknown as { prototype: unknown }).prototype instanceof Error;
