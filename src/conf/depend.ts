// The `depend` parameter: which configured jails to create first and remove last.
import { confError, confErrorNoPos } from "./errors.js";
import { listJails, type JailConf } from "./parser.js";
import { findJailBlock, resolveJail } from "./resolve.js";

/** One configured jail's dependencies, by block name (each must be defined). */
function depsOf(conf: JailConf, name: string): string[] {
  const r = resolveJail(conf, name);
  const deps = Array.isArray(r.params.depend) ? r.params.depend : [];
  return deps.map((d, i) => {
    const b = findJailBlock(conf, d);
    if (!b) throw confError(r.valueSources.depend?.[i] ?? r.sources.depend!, `depend: jail '${d}' is not defined`, d);
    return b.name;
  });
}

/** Each configured jail's dependencies, by block name (checked: every one must be defined). */
export function dependGraph(conf: JailConf): Map<string, string[]> {
  return new Map(listJails(conf).map((name) => [name, depsOf(conf, name)]));
}

function walk(start: string[], edges: (n: string) => string[], file: string): string[] {
  const done: string[] = [];
  const visit = (n: string, path: string[]): void => {
    if (done.includes(n)) return;
    if (path.includes(n)) throw confErrorNoPos(`${file}: depend loop: ${[...path.slice(path.indexOf(n)), n].join(" -> ")}`, file);
    for (const d of edges(n)) visit(d, [...path, n]);
    done.push(n);
  };
  for (const n of start) visit(n, []);
  return done;
}

/** Jails to create for NAMES, dependencies first (jail -c). Only these jails and their
 * dependencies are evaluated: an error in another jail's block does not stop them. */
export function createOrder(conf: JailConf, names: readonly string[]): string[] {
  const cache = new Map<string, string[]>();
  const edges = (n: string) => cache.get(n) ?? cache.set(n, findJailBlock(conf, n) ? depsOf(conf, n) : []).get(n)!;
  const start = names.map((n) => findJailBlock(conf, n)?.name ?? n);
  return walk(start, edges, conf.file);
}

/** Jails to remove for NAMES, jails that depend on them first (jail -r). A jail whose block
 * cannot be evaluated is taken to depend on nothing. */
export function removeOrder(conf: JailConf, names: readonly string[]): string[] {
  const graph = new Map<string, string[]>();
  for (const n of listJails(conf)) {
    try {
      graph.set(n, depsOf(conf, n));
    } catch {
      graph.set(n, []);
    }
  }
  const dependents = (n: string) => [...graph.entries()].filter(([, deps]) => deps.includes(n)).map(([k]) => k);
  const start = names.map((n) => findJailBlock(conf, n)?.name ?? n);
  return walk(start, dependents, conf.file);
}
