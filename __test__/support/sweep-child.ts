/**
 * One child process of the API sweep: runs the cases of one group from a
 * given index, writing `S <i>` before each case and `R <json>` after it with
 * a synchronous write, so the parent knows which case an abort, a signal or
 * a hang interrupted, and can start a new child after it.
 *
 * Usage: node --import tsx sweep-child.ts <group> <first case index>
 */
import { writeSync } from 'node:fs';
import { KeywardError } from '../../src/errors';
import { HostileTrapError, hostileValues, hugeBuffer, MARKER, mutations, textMutations, throwingBag, withThrowingGetter } from './sweep-hostile';
import { type Ctx, factoryRecipes, instances, makeCtx, notInstantiated, type Recipe, recipes } from './sweep-recipes';
import { enumerate, type Target } from './sweep-targets';

export interface CaseResult {
  i: number;
  id: string;
  case: string;
  outcome: 'return' | 'throw' | 'hang' | 'crash';
  /** The case passes a value whose reads throw `HostileTrapError` on purpose. */
  trap: boolean;
  /** The valid arguments, unchanged: must return normally. */
  baseline: boolean;
  /** The valid call is refused by design (its recipe says so). */
  refused?: boolean;
  errName?: string;
  code?: unknown;
  keyward?: boolean;
  message?: string;
  /** A secret argument's value (or its hex/base64) found in the error message. */
  leaked?: boolean;
}

interface Case {
  id: string;
  name: string;
  trap: boolean;
  baseline: boolean;
  refused?: boolean;
  /** Close what the call returned, after the case. */
  closeResult?: boolean;
  /** Builds the arguments (recipe errors throw here) and returns the call to make; async where an instance is (a relay connection). */
  prepare: () => Promise<{ secrets: unknown[]; call: () => unknown }>;
}

/** A promise that has not settled after this long is a hang; generous, since a busy CI machine is slow, not stuck. */
const CASE_TIMEOUT_MS = 30_000;
const isBag = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const safely = (f: () => boolean) => {
  try {
    return f();
  } catch {
    return false;
  }
};
const trapNames = new Set(['Proxy with throwing traps', 'object with a throwing toString']);

/** The strings a message may not contain: secret strings, and secret bytes as hex and base64. */
function secretTexts(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    try {
      if (typeof v === 'string' && v.length >= 4) out.push(v);
      else if (v instanceof Uint8Array && v.byteLength >= 8 && v.byteLength <= 1 << 20 && !(v.buffer instanceof SharedArrayBuffer)) {
        const b = Buffer.from(v);
        out.push(b.toString('hex'), b.toString('base64').replace(/=+$/, ''), b.toString('base64url'));
      }
    } catch {
      // a proxy or a detached view: nothing a message could echo as text
    }
  }
  return out;
}

/** Cases of one target: each argument and each option field replaced by each hostile value, readers' inputs mutated, and calls on a disposed instance. */
async function casesOf(t: Target, r: Recipe | undefined, c: Ctx): Promise<Case[]> {
  const out: Case[] = [];
  const arity = Math.max(t.fn.length, 1);
  const build = async (): Promise<{ self: unknown; args: unknown[] }> => {
    if (r?.make) return r.make(c);
    const args = r?.base ? r.base(c) : Array.from({ length: arity }, () => undefined);
    let self: unknown = t.owner;
    if (t.kind === 'method' || t.kind === 'getter') self = await (r?.instance ?? instances[t.className!])?.(c);
    return { self, args };
  };
  /** The arguments only, to see their shape: no instance is made for it. */
  const probeArgs = async (): Promise<unknown[]> => (r?.make ? (await r.make(c)).args : r?.base ? r.base(c) : Array.from({ length: arity }, () => undefined));
  const invoke = (self: unknown, args: unknown[]) => {
    if (t.kind === 'constructor') return Reflect.construct(t.fn, args);
    return Reflect.apply(t.fn, self, args);
  };
  const secretOf = (args: unknown[]) => {
    const vals: unknown[] = [];
    for (const i of r?.secret ?? []) vals.push(args[i]);
    for (const a of args) if (safely(() => isBag(a))) for (const f of r?.secretFields ?? []) vals.push(Object.getOwnPropertyDescriptor(a, f)?.value);
    return vals;
  };
  const add = (name: string, trap: boolean, change: (args: unknown[]) => void, baseline = false) =>
    out.push({
      id: t.id,
      name,
      trap,
      baseline,
      refused: r?.refused,
      closeResult: r?.closeResult,
      prepare: async () => {
        const { self, args } = await build();
        change(args);
        return { secrets: secretOf(args), call: () => invoke(self, args) };
      },
    });

  if (t.kind === 'getter') {
    add('on a valid instance', false, () => {}, true);
  } else {
    if ((r?.base || r?.make) && !r.noBaseline) add('valid arguments', false, () => {}, true);
    const probe = await probeArgs();
    const positions = Math.max(probe.length, arity);
    for (let i = 0; i < positions; i++) {
      for (const h of hostileValues) add(`argument ${i} = ${h.name}`, trapNames.has(h.name), (a) => void (a[i] = h.make()));
      if (isBag(probe[i])) {
        for (const field of Object.keys(probe[i] as object)) {
          add(`argument ${i}.${field} = throwing getter`, true, (a) => void (a[i] = withThrowingGetter(a[i] as Record<string, unknown>, field)));
          for (const h of hostileValues)
            add(`argument ${i}.${field} = ${h.name}`, trapNames.has(h.name), (a) => void (a[i] = { ...(a[i] as object), [field]: h.make() }));
          const inner = (probe[i] as Record<string, unknown>)[field];
          if (isBag(inner)) {
            for (const sub of Object.keys(inner)) {
              for (const h of hostileValues) {
                add(`argument ${i}.${field}.${sub} = ${h.name}`, trapNames.has(h.name), (a) => {
                  const bag = a[i] as Record<string, Record<string, unknown>>;
                  a[i] = { ...bag, [field]: { ...bag[field], [sub]: h.make() } };
                });
              }
            }
          }
        }
        add(`argument ${i} = bag whose every read throws`, true, (a) => void (a[i] = throwingBag()));
      }
    }
    if (r?.reads !== undefined) {
      const at = r.reads;
      const valid = probe[at];
      if (valid instanceof Uint8Array) {
        add(`argument ${at} = 64 MiB`, false, (a) => void (a[at] = hugeBuffer()));
        mutations(valid).forEach((m, j) => add(`argument ${at} ${m.name}`, false, (a) => void (a[at] = mutations(a[at] as Uint8Array)[j]?.bytes ?? m.bytes)));
      } else if (typeof valid === 'string') {
        textMutations(valid).forEach((m, j) => add(`argument ${at} ${m.name}`, false, (a) => void (a[at] = textMutations(a[at] as string)[j]?.text ?? m.text)));
      }
    }
  }
  // The same calls on an instance that was disposed (or closed) first.
  if ((t.kind === 'method' || t.kind === 'getter') && !['dispose', 'close', 'destroy'].includes(t.id.split('#')[1])) {
    out.push({
      id: t.id,
      name: 'on a disposed instance',
      trap: false,
      baseline: false,
      prepare: async () => {
        const { self, args } = await build();
        const s = self as { dispose?: () => unknown; close?: () => unknown };
        // An async close (a store, a connection) is waited for: the calls are on what is closed, not on what is closing.
        if (typeof s.dispose === 'function') await s.dispose();
        else if (typeof s.close === 'function') await s.close();
        else return { secrets: [], call: () => undefined };
        return { secrets: secretOf(args), call: () => invoke(self, args) };
      },
    });
  }
  return out;
}

/** The methods of the objects factories return (an auth service, a client), enumerated from a made one. */
const factories = new Set(['index:createAuthService', 'client:createClient', 'relay:createRelayServer']);

function productTargets(t: Target, c: Ctx): Target[] {
  const r = recipes[t.id];
  if (!factories.has(t.id) || !r?.base) return [];
  const product = t.fn(...r.base(c)) as Record<string, unknown>;
  return Object.keys(product)
    .filter((key) => typeof product[key] === 'function')
    .map((key) => ({ id: `${t.id}().${key}`, group: t.group, kind: 'function' as const, fn: product[key] as never, owner: product }));
}

/** Synchronous and whole: a pipe may take part of a write, or none (EAGAIN) while the parent is busy. */
function emit(line: string) {
  const buf = Buffer.from(`${line}\n`);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(1, buf, off);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
}

async function settle(value: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown } | { hang: true }> {
  if (!(value instanceof Promise)) return { ok: true, value };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ hang: true }>((resolve) => (timer = setTimeout(() => resolve({ hang: true }), CASE_TIMEOUT_MS)));
  try {
    return await Promise.race([value.then((v) => ({ ok: true as const, value: v })), timeout]);
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown, secrets: string[]): Partial<CaseResult> {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(typeof error === 'symbol' ? 'a symbol' : error);
  return {
    outcome: 'throw',
    errName: error instanceof Error ? error.constructor.name : typeof error,
    code: e?.code,
    keyward: error instanceof KeywardError,
    message: message.slice(0, 300).replaceAll(MARKER, '<MARKER>'),
    leaked: secrets.some((s) => message.includes(s)),
  };
}

export async function main(group: string, first: number) {
  // Promises a case left behind may reject later; they belong to that case, already reported.
  process.on('unhandledRejection', () => {});
  // A promise that never settles must show as a hang (the case timeout), not let the loop drain and exit 0.
  setInterval(() => {}, 1 << 30);
  emit('C');
  const c = await makeCtx(group);
  emit('M');
  const all = enumerate().filter((t) => t.group === group);
  const extra = factoryRecipes();
  const swept = all.filter((t) => !(t.className !== undefined && t.className in notInstantiated));
  const targets = [...swept, ...swept.filter((t) => t.kind === 'function').flatMap((t) => productTargets(t, c))];
  const cases: Case[] = [];
  for (const t of targets) cases.push(...(await casesOf(t, recipes[t.id] ?? extra[t.id], c)));
  emit(`N ${cases.length}`);
  for (let i = first; i < cases.length; i++) {
    const k = cases[i];
    emit(`S ${i} ${JSON.stringify({ id: k.id, case: k.name })}`);
    const head = { i, id: k.id, case: k.name, trap: k.trap, baseline: k.baseline, refused: k.refused };
    let result: CaseResult;
    let prepared: Awaited<ReturnType<Case['prepare']>>;
    try {
      prepared = await k.prepare();
    } catch (error) {
      emit(`R ${JSON.stringify({ ...head, outcome: 'throw', errName: 'RecipeError', message: String((error as Error)?.stack ?? error).slice(0, 400) })}`);
      await c.cleanup();
      continue;
    }
    const secrets = secretTexts(prepared.secrets);
    try {
      const settled = await settle(prepared.call());
      if ('hang' in settled) result = { ...head, outcome: 'hang' };
      else if (settled.ok) {
        result = { ...head, outcome: 'return' };
        const made = settled.value as { close?: () => unknown } | null;
        if (k.closeResult && typeof made?.close === 'function') c.defer(made, (m) => m.close?.());
      } else result = { ...head, ...describe(settled.error, secrets) } as CaseResult;
    } catch (error) {
      result = { ...head, ...describe(error, secrets) } as CaseResult;
    }
    emit(`R ${JSON.stringify(result)}`);
    // What the case opened (a relay connection, a store, a listener) is closed before the next one.
    await c.cleanup();
  }
  await c.close();
  emit('D');
  process.exit(0);
}

export { HostileTrapError };

if (require.main === module) {
  main(process.argv[2], Number(process.argv[3] ?? 0)).catch((error) => {
    emit(`F ${JSON.stringify(String(error?.stack ?? error))}`);
    process.exit(3);
  });
}
