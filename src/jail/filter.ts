// The jail's system-call filter: compiled by src/seccomp, cached on disk by what determines it.
//
// The cache key is a hash of the policy options, the contents of every policy file, the package
// version and the architecture, so a cached program is exactly what compiling would produce. The
// cache lives in the caller's own state directory (root: /run/sysjail/cache, mode 0700), so only the
// caller can plant a program there, and a user can only weaken jails that run with their own rights.
import { readRegularFile } from "../host/regular.js";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SysjailError } from "../errors.js";
import type { JailSpec } from "../spec/types.js";
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
  private a = 0x811c9dc5;
  private b = 0x050c5d1f;
  private n = 0;
  update(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.a = Math.imul(this.a ^ c, 0x01000193) >>> 0;
      this.b = Math.imul(this.b ^ c, 0x01000193) >>> 0;
      this.b = (this.b ^ (this.b >>> 13)) >>> 0;
    }
    this.n += s.length;
  }
  digest(): string {
    return `${this.a.toString(16).padStart(8, "0")}${this.b.toString(16).padStart(8, "0")}-${this.n.toString(16)}`;
  }
}

function cacheKey(spec: JailSpec, arch: string, compiler: string): string {
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
