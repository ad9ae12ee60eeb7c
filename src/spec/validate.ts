// One validation for the CLI, jail.conf and the library: raw values in, a JailSpec out.
import { statSync, realpathSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { SysjailError, usageError, Exit, errnoNumber } from "../errors.js";
import { defaultPolicy, type JailSpec } from "./types.js";

/** Hostnames: 1-64 bytes of letters, digits, '-', '_' and '.', not starting with '-' or '.'. */
export function checkHostname(h: string): string {
  if (h.length === 0) throw usageError(`sysjail: invalid hostname '': it must not be empty`);
  if (Buffer.byteLength(h) > 64) throw usageError(`sysjail: invalid hostname '${h.slice(0, 20)}...': longer than 64 bytes`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(h)) {
    throw usageError(`sysjail: invalid hostname '${h}': use letters, digits, '-', '_' and '.' only`);
  }
  return h;
}

/** Jail names: like FreeBSD, no dots; letters, digits, '_' and '-', at most 64 bytes. */
export function checkName(n: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/.test(n)) {
    throw usageError(`sysjail: invalid jail name '${n}': use letters, digits, '_' and '-' (no dots), at most 64`);
  }
  return n;
}

/** The jail root: it must exist and be a directory; returned absolute and canonical. */
export function checkPath(p: string): string {
  if (p === "") {
    throw new SysjailError("sysjail: jail path '': it must name a directory", { code: "ENOENT", phase: "usage", path: p, exitCode: Exit.noInput });
  }
  const abs = isAbsolute(p) ? p : resolve(p);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "ENOENT";
    throw new SysjailError(`sysjail: jail path ${p}: ${code === "ENOENT" ? "no such directory" : code}`, {
      code, phase: "usage", path: p, errno: errnoNumber(code), exitCode: Exit.noInput,
    });
  }
  if (!st.isDirectory()) {
    throw new SysjailError(`sysjail: jail path ${p}: not a directory`, { code: "ENOTDIR", phase: "usage", path: p, errno: errnoNumber("ENOTDIR"), exitCode: Exit.noInput });
  }
  return realpathSync.native(abs); // one realpath(3), not a JS walk over each component
}

/** A spec with every default filled in; path and hostname still to be checked by the caller. */
export function baseSpec(path: string, hostname: string): JailSpec {
  return {
    path,
    hostname,
    env: {},
    cleanEnv: false,
    ip4: [],
    ip6: [],
    vnet: false,
    policy: defaultPolicy(),
    limits: {},
    persist: false,
    killOnExit: false,
    mounts: [],
    devfsRuleset: 4,
    mountProc: true,
    mountDev: true,
    meta: {},
  };
}

/** Checks a spec's fields; returns it with path canonical. Throws SysjailError (usage). */
export function validateSpec(spec: JailSpec): JailSpec {
  spec.path = checkPath(spec.path);
  checkHostname(spec.hostname);
  if (spec.name !== undefined) checkName(spec.name);
  if (spec.idrange !== undefined && (typeof spec.idrange !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(spec.idrange))) {
    throw usageError(`sysjail: idrange ${JSON.stringify(String(spec.idrange))}: a jail name, jid or range base (letters, digits, _ . -) is allowed`);
  }
  if (spec.command !== undefined) {
    if (!Array.isArray(spec.command) || spec.command.length === 0 || spec.command.some((a) => typeof a !== "string")) {
      throw usageError("sysjail: command must be a non-empty list of strings");
    }
    if (spec.command.some((a) => a.includes("\0"))) throw usageError("sysjail: command arguments must not contain NUL bytes");
  }
  if (!spec.command && !spec.persist) throw usageError("sysjail: a jail needs a command, or persist");
  for (const [k, v] of Object.entries(spec.env)) {
    if (!k || k.includes("=") || k.includes("\0") || String(v).includes("\0")) throw usageError(`sysjail: invalid environment variable '${k}'`);
  }
  return spec;
}
