// restrict(): the calling Node process confines itself (unveil, pledge, no_new_privs), every
// thread of it, irreversibly. TypeScript decides the rights and compiles the filter; the addon
// (native/addon/restrict.c) applies them.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Exit, printable, SysjailError, usageError } from "../errors.js";
import { codeDir } from "../helper/locate.js";
import { vis } from "../manage/vis.js";
import { landlockFacts } from "../host/landlock.js";
import { handledFs, unveilAccess } from "../plan/landlock.js";
import { parsePromises, type PromiseName } from "../seccomp/promises.js";
import { checkUnveil } from "../spec/unveil.js";
import { defaultPolicy } from "../spec/types.js";

/** restrict()'s options. */
export interface RestrictOptions {
  /** Paths and OpenBSD permissions ("r", "w", "x", "c"): the process reaches only these. */
  unveil?: Record<string, string> | undefined;
  /** OpenBSD promises ("stdio rpath inet"): calls outside them fail with EPERM. */
  pledge?: string | undefined;
  /** Apply what the kernel can and report the rest, instead of throwing. */
  bestEffort?: boolean | undefined;
}

/** What restrict() enforced. */
export interface Restricted {
  /** The unveiled paths and their permissions (empty when no Landlock domain was made). */
  unveil: Record<string, string>;
  /** The promises in force (with the ones restrict() adds: error, prot_exec), or undefined. */
  pledge: string[] | undefined;
  noNewPrivs: true;
  /** The kernel's Landlock ABI used (0: none). */
  landlockAbi: number;
  /** Threads besides the caller's that entered the Landlock domain. */
  threads: number;
  /** What was asked and could not be enforced (only with bestEffort). */
  skipped: string[];
}

type Addon = { restrict(handled: number, paths: string[], access: number[], program: Buffer | null): [number, number] };
let addon: Addon | undefined;

function loadAddon(): Addon {
  if (addon) return addon;
  const here = codeDir();
  const file = [join(here, "..", "..", "..", "native", "build", "sysjail-restrict.node"), join(here, "..", "..", "native", "build", "sysjail-restrict.node")].find((p) => existsSync(p));
  if (!file) throw new SysjailError("restrict(): the addon native/build/sysjail-restrict.node is not built; run `npm rebuild sysjail` (needs a C compiler)", { code: "ENOHELPER", phase: "setup", exitCode: Exit.software });
  addon = createRequire(import.meta.url)(file) as Addon;
  return addon;
}

const STAGES = ["", "arguments", "Landlock ruleset", "unveil path", "no_new_privs", "signal handler", "thread", "a thread blocks the signal", "this thread's Landlock domain", "seccomp filter"];

/** Confines the calling Node process: unveil (Landlock, every thread), pledge (seccomp, every
 * thread, refusals are EPERM: the program sees errors it can handle), no_new_privs. Throws a
 * SysjailError when a restriction cannot be enforced, unless `bestEffort`. Irreversible. */
export async function restrict(opts: RestrictOptions): Promise<Restricted> {
  if (typeof opts !== "object" || opts === null) throw usageError("restrict(): options must be { unveil?, pledge?, bestEffort? }");
  for (const k of Object.keys(opts)) if (!["unveil", "pledge", "bestEffort"].includes(k)) throw usageError(`restrict(): unknown option ${printable(k, 40)} (allowed: unveil, pledge, bestEffort)`);
  const best = opts.bestEffort === true;
  const u = opts.unveil;
  if (u !== undefined && (typeof u !== "object" || u === null || Array.isArray(u) || !Object.values(u).every((v) => typeof v === "string"))) {
    throw usageError("restrict(): option unveil must be { path: perms }");
  }
  const unveil = u ? checkUnveil(Object.entries(u).map(([path, perms]) => ({ path, perms })), "restrict(): unveil") : [];
  if (opts.pledge !== undefined && typeof opts.pledge !== "string") throw usageError("restrict(): option pledge must be a string of promises");
  let promises: PromiseName[] | undefined = opts.pledge !== undefined ? parsePromises(opts.pledge, "restrict(): pledge") : undefined;
  // Node's own code generation needs executable memory, and a refusal must not kill a running
  // program that can report it: restrict() always adds prot_exec and error.
  if (promises) promises = [...new Set<PromiseName>([...promises, "prot_exec", "error"])];
  const skipped: string[] = [];
  const abi = landlockFacts().abi;
  let handled = 0;
  if (u !== undefined) {
    if (abi >= 1) handled = handledFs(abi);
    else if (best) skipped.push("unveil (no Landlock in this kernel)");
    else throw new SysjailError("restrict(): unveil needs Landlock (Linux 5.13+ with landlock in the lsm= list); this kernel offers none", { code: "ENOTSUP", phase: "setup", exitCode: Exit.osErr });
  }
  let program: Buffer | null = null;
  if (promises) {
    const [{ compilePolicy, defaultRules }, { pledgeRules }] = await Promise.all([import("../seccomp/index.js"), import("../seccomp/pledge.js")]);
    const rules = [...defaultRules(defaultPolicy()), ...pledgeRules(promises, false)];
    program = Buffer.from(compilePolicy(rules, { arch: process.arch, foreign: "translate", x32: "refuse" }).program);
  }
  const a = loadAddon();
  const [res, threads] = a.restrict(handled, handled ? unveil.map((x) => x.path) : [], handled ? unveil.map((x) => unveilAccess(x.perms, handled)) : [], program);
  if (res < 0) {
    const stage = Math.floor(-res / 10000), errno = -res % 10000;
    const { errnoName } = await import("../errors.js");
    const which = stage === 3 ? unveil.find((x) => !existsSync(x.path))?.path : undefined;
    throw new SysjailError(`restrict(): ${STAGES[stage] ?? "step"}${which ? ` ${vis(which)}` : ""} failed: ${errnoName(errno)}${stage >= 4 ? " (the process may be partly restricted)" : ""}`, {
      code: errnoName(errno), phase: "setup", errno, exitCode: Exit.osErr,
    });
  }
  return {
    unveil: handled ? Object.fromEntries(unveil.map((x) => [x.path, x.perms])) : {},
    pledge: promises,
    noNewPrivs: true,
    landlockAbi: handled ? abi : 0,
    threads,
    skipped,
  };
}
