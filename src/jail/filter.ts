// The jail's system-call filter: compiled by src/seccomp, cached on disk by what determines it.
//
// The cache key is a hash of the policy options, the contents of every policy file, the package
// version and the architecture, so a cached program is exactly what compiling would produce; a
// policy of switches only (every jail's and container's own, without policy files) has a key
// that spells those inputs out instead (exactKey), which no other input can share. The
// cache lives in the caller's own state directory (root: /run/sysjail/cache, mode 0700), so only the
// caller can plant a program there, and a user can only weaken jails that run with their own rights.
import { readRegularFile } from "../host/regular.js";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SysjailError } from "../errors.js";
import type { JailSpec, PolicyOptions } from "../spec/types.js";
import { VERSION } from "../version.js";

/** Set by the bundler (scripts/bundle.mjs) to compilerFingerprint() at build time. */
declare const __SYSJAIL_COMPILER_FP__: string | undefined;
let fp: string | undefined;
/** The compiler's fingerprint: the bundle's constant, else computed (which loads the default
 * policy and a system-call table, so the bundled tools never do it at start-up). */
export async function fingerprint(): Promise<string> {
  if (fp === undefined) {
    fp = typeof __SYSJAIL_COMPILER_FP__ === "string" ? __SYSJAIL_COMPILER_FP__ : (await import("../seccomp/revision.js")).compilerFingerprint();
  }
  return fp;
}

/** Programs this process has already loaded or compiled, by cache key. */
const memo = new Map<string, Uint8Array>();

/** seccomp(2) flags the helper passes with the filter. */
export const SECCOMP_FLAGS = 0;

/** Two independent 32-bit FNV-1a hashes (64 bits) and the length: enough to tell inputs apart
 * in a cache only the caller can write, without loading node:crypto at every start. */
class Fnv {
  private a = 0x811c9dc5 | 0;
  private b = 0x050c5d1f;
  private n = 0;
  /** Adds every STEP-th character of S (all by default); the length counted is S's. */
  update(s: string, step = 1): void {
    // the state in int32 locals (small integers to V8, never a heap number): this runs cold, in
    // V8's interpreter, at every jail start and create, where unsigned fields cost 3x (0.2 ms a
    // create); the bits are those of the unsigned hash, the digest prints them as unsigned
    let a = this.a, b = this.b;
    for (let i = 0; i < s.length; i += step) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193);
      b ^= b >>> 13;
    }
    this.a = a;
    this.b = b;
    this.n += s.length;
  }
  digest(): string {
    return `${(this.a >>> 0).toString(16).padStart(8, "0")}${(this.b >>> 0).toString(16).padStart(8, "0")}-${this.n.toString(16)}`;
  }
}

/** The Fnv digest of every STEP-th character of S (and S's length): a cache file's name. */
export function fnvHex(s: string, step = 1): string {
  const h = new Fnv();
  h.update(s, step);
  return h.digest();
}

/** The policy switches an exact key spells out, in this order (src/spec/types.ts PolicyOptions). */
const SWITCHES = ["allowRawSockets", "allowAllDomains", "allowIpc", "allowChflags", "allowRlimit", "allowSetHostname", "allowSetuid", "allowNesting", "replaceDefault"];

/** The key of a policy of switches only (no files, no pledge): every input spelled out, so two
 * policies share it only when they are the same (no hash to collide), and nothing is hashed:
 * the key of every jail and container start without policy files, which the hash below, run
 * cold by V8's interpreter, made cost 0.1-0.2 ms. Each switch is 1, 0 or - (not set); the
 * architecture, version and compiler follow with their lengths. Undefined (the hash then): a
 * policy with anything else, or a name part that a file name cannot hold. */
export function exactKey(policy: PolicyOptions, arch: string, compiler: string): string | undefined {
  const sw = ["-", "-", "-", "-", "-", "-", "-", "-", "-"];
  for (const k of Object.keys(policy)) {
    const v = (policy as unknown as Record<string, unknown>)[k];
    if (k === "files") {
      if (!Array.isArray(v) || v.length) return undefined;
      continue;
    }
    if (v === undefined) continue; // as JSON.stringify in the hashed key: not set
    const i = SWITCHES.indexOf(k);
    if (i < 0 || typeof v !== "boolean") return undefined;
    sw[i] = v ? "1" : "0";
  }
  const tail = `${arch.length}.${arch}${VERSION.length}.${VERSION}${compiler.length}.${compiler}`;
  if (tail.includes("/") || tail.includes("\0") || tail.length > 200) return undefined;
  return `o${sw.join("")}${tail}`;
}

function cacheKey(spec: JailSpec, arch: string, compiler: string): string {
  const exact = exactKey(spec.policy, arch, compiler);
  if (exact !== undefined) return exact;
  const h = new Fnv();
  const { files, ...opts } = spec.policy;
  h.update(JSON.stringify({ opts, arch, v: VERSION, c: compiler }));
  for (const f of files) {
    let text: string;
    try {
      text = readRegularFile(f);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "EIO";
      throw new SysjailError(`sysjail: policy file ${f}: ${code === "ENOENT" ? "no such file" : code}`, { code, phase: "usage", path: f, exitCode: 66 });
    }
    h.update(`\0${f}\0${text}`);
  }
  return h.digest();
}

/** The compiled filter of a spec's policy (from the cache when it holds this exact policy). */
export async function buildFilter(spec: JailSpec, arch: string, cacheDir?: string): Promise<{ program: Uint8Array; flags: number }> {
  const key = cacheKey(spec, arch, await fingerprint());
  const hit = memo.get(key);
  if (hit) return { program: hit, flags: SECCOMP_FLAGS };
  const file = cacheDir ? join(cacheDir, `seccomp-${key}.bpf`) : undefined;
  if (file) {
    try {
      const program = readFileSync(file);
      if (program.length > 0 && program.length % 8 === 0) {
        memo.set(key, program);
        return { program, flags: SECCOMP_FLAGS };
      }
    } catch {
      /* not cached yet */
    }
  }
  const { compileJailFilter } = await import("../seccomp/index.js");
  const f = compileJailFilter(spec.policy, arch);
  memo.set(key, f.program);
  if (file && cacheDir) {
    try {
      mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, f.program, { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      /* an unwritable cache only costs time */
    }
  }
  return { program: f.program, flags: SECCOMP_FLAGS };
}
