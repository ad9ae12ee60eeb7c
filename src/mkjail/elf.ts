// What an ELF program loads: its interpreter (PT_INTERP, read here) and the DT_NEEDED closure,
// which the interpreter itself lists (`ld.so --list PROG`, the host's loader: the very search it
// will do in the jail, where the libraries sit at the same paths).
import { closeSync, openSync, readSync, realpathSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { execFileSync } from "node:child_process";

const PT_INTERP = 3;

/** The ELF interpreter of FILE, undefined for a static program; null when FILE is no ELF file. */
export function elfInterpreter(file: string): string | undefined | null {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 52 || head.readUInt32BE(0) !== 0x7f454c46) return null;
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    const phoff = is64 ? u64(head, 32) : u32(head, 28);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    if (phnum > 256 || phentsize < (is64 ? 56 : 32)) return null;
    const ph = Buffer.alloc(phentsize);
    for (let i = 0; i < phnum; i++) {
      if (readSync(fd, ph, 0, phentsize, phoff + i * phentsize) < phentsize) return null;
      if (u32(ph, 0) !== PT_INTERP) continue;
      const off = is64 ? u64(ph, 8) : u32(ph, 4);
      const size = is64 ? u64(ph, 32) : u32(ph, 16);
      if (size < 2 || size > 4096) return null;
      const buf = Buffer.alloc(size);
      readSync(fd, buf, 0, size, off);
      return buf.toString("latin1").replace(/\0.*$/s, "");
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Is FILE (and every directory above it) owned by root and writable by no one else? An ELF
 * interpreter is named by the program's own bytes: mkjail runs it only when it is a loader the
 * host's administrator installed, never one a user planted. */
export function trustedPath(file: string): boolean {
  let p: string;
  try {
    p = realpathSync(file);
  } catch {
    return false;
  }
  for (let cur = p; ; cur = dirname(cur)) {
    const st = statSync(cur);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
    if (cur === "/") return true;
  }
}

/** The libraries PROG loads, as absolute host paths (interpreter included); throws naming a
 * library the loader cannot find, or an interpreter that is not the administrator's. */
export function sharedLibraries(prog: string, interp: string): string[] {
  if (!trustedPath(interp)) throw new Error(`its ELF interpreter ${JSON.stringify(interp)} is missing, or not root's alone (owned by root, writable by no one else)`);
  const out = execFileSync(interp, ["--list", prog], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin" } });
  const libs: string[] = [];
  for (const raw of out.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const nf = /^(\S+) => not found$/.exec(line);
    if (nf) throw new Error(`library ${nf[1]} not found`);
    const m = /=> (\/\S+) \(0x[0-9a-f]+\)$/.exec(line) ?? /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (m) libs.push(m[1]!);
  }
  if (!libs.includes(interp)) libs.push(interp);
  return libs;
}
