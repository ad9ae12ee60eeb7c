// The `depend` parameter: which configured jails to create first and remove last.
import { confError, confErrorNoPos } from "./errors.js";
import { listJails, type JailConf } from "./parser.js";
import { findJailBlock, resolveJail } from "./resolve.js";

/** Each configured jail's dependencies, by block name (checked: every one must be defined). */
export function dependGraph(conf: JailConf): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const name of listJails(conf)) {
    const r = resolveJail(conf, name);
    const deps = Array.isArray(r.params.depend) ? r.params.depend : [];
    graph.set(
      name,
      deps.map((d, i) => {
        const b = findJailBlock(conf, d);
        if (!b) throw confError(r.valueSources.depend?.[i] ?? r.sources.depend!, `depend: jail '${d}' is not defined`, d);
        return b.name;
      }),
    );
  }
  return graph;
}

function walk(graph: Map<string, string[]>, start: string[], edges: (n: string) => string[], file: string): string[] {
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

/** Jails to create for NAMES, dependencies first (jail -c). */
export function createOrder(conf: JailConf, names: readonly string[]): string[] {
  const graph = dependGraph(conf);
  const start = names.map((n) => findJailBlock(conf, n)?.name ?? n);
  return walk(graph, start, (n) => graph.get(n) ?? [], conf.file);
}

/** Jails to remove for NAMES, jails that depend on them first (jail -r). */
export function removeOrder(conf: JailConf, names: readonly string[]): string[] {
  const graph = dependGraph(conf);
  const dependents = (n: string) => [...graph.entries()].filter(([, deps]) => deps.includes(n)).map(([k]) => k);
  const start = names.map((n) => findJailBlock(conf, n)?.name ?? n);
  return walk(graph, start, dependents, conf.file);
}
