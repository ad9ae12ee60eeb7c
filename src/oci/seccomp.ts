// linux.seccomp of config.json as a sysjail policy file (docs/POLICY.md), for our own compiler.
//
// The result is loaded as a second filter after the jail's own policy: the kernel runs both and
// the strictest answer wins, so a container's profile can only narrow what a jail may do.
import { numbers as x86_64 } from "../seccomp/tables/x86_64.js";
import { numbers as i386 } from "../seccomp/tables/i386.js";
import { numbers as aarch64 } from "../seccomp/tables/aarch64.js";
import { numbers as arm } from "../seccomp/tables/arm.js";
import type { OciSeccomp, OciSeccompArg } from "./config.js";
import { ociError } from "./config.js";

/** Whether some ABI sysjail knows has a system call of this name. */
export function knownSyscall(name: string): boolean {
  return [x86_64, i386, aarch64, arm].some((t) => Object.hasOwn(t, name));
}

const EPERM = 1, ENOSYS = 38;

function action(a: string, errnoRet: number | undefined, where: string): string {
  switch (a) {
    case "SCMP_ACT_ALLOW": return "allow";
    case "SCMP_ACT_ERRNO": {
      const e = errnoRet ?? EPERM;
      if (!Number.isInteger(e) || e < 0 || e > 4095) throw ociError(`seccomp ${where}: errnoRet ${e}: 0..4095 is allowed`);
      return `errno ${e}`;
    }
    case "SCMP_ACT_KILL": case "SCMP_ACT_KILL_THREAD": case "SCMP_ACT_KILL_PROCESS": return "kill";
    case "SCMP_ACT_TRAP": return "trap";
    case "SCMP_ACT_LOG": return "log";
    // no tracer is ever attached by sysjail-oci: the kernel then answers ENOSYS
    case "SCMP_ACT_TRACE": return `errno ${ENOSYS}`;
    default: throw ociError(`seccomp ${where}: action ${JSON.stringify(a)} is not supported (ALLOW, ERRNO, KILL*, TRAP, LOG, TRACE are)`);
  }
}

const OPS: Record<string, string> = {
  SCMP_CMP_NE: "!=", SCMP_CMP_LT: "<", SCMP_CMP_LE: "<=", SCMP_CMP_EQ: "==", SCMP_CMP_GE: ">=", SCMP_CMP_GT: ">",
};

function num(v: unknown, where: string): string {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw ociError(`seccomp ${where}: argument values must be non-negative integers`);
  return String(v);
}

function condition(args: OciSeccompArg[], where: string): string {
  return args.map((a) => {
    if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw ociError(`seccomp ${where}: argument index ${a.index}: 0..5 is allowed`);
    if (a.op === "SCMP_CMP_MASKED_EQ") return `arg${a.index} & ${num(a.value, where)} == ${num(a.valueTwo ?? 0, where)}`;
    const op = OPS[a.op];
    if (!op) throw ociError(`seccomp ${where}: comparison ${JSON.stringify(a.op)} is not known`);
    return `arg${a.index} ${op} ${num(a.value, where)}`;
  }).join(" && ");
}

/** The policy text of an OCI seccomp section, and the call names no ABI has (skipped, as
 * libseccomp skips them). Throws one clear error for what cannot be enforced. */
export function ociSeccompPolicy(s: OciSeccomp): { text: string; skipped: string[] } {
  if (s.listenerPath) throw ociError("seccomp: listenerPath (SCMP_ACT_NOTIFY) is not supported");
  const lines = [`default ${action(s.defaultAction, s.defaultErrnoRet, "defaultAction")}`];
  const skipped: string[] = [];
  (s.syscalls ?? []).forEach((r, i) => {
    const where = `syscalls[${i}]`;
    if (!Array.isArray(r.names) || r.names.some((n) => typeof n !== "string" || !/^[a-z0-9_]+$/i.test(n))) throw ociError(`seccomp ${where}: names must be system call names`);
    const names = r.names.filter((n) => { const k = knownSyscall(n); if (!k) skipped.push(n); return k; });
    if (names.length === 0) return;
    const cond = r.args?.length ? ` ${condition(r.args, where)}` : "";
    lines.push(`${names.join(", ")}${cond} ${action(r.action, r.errnoRet, where)}`);
  });
  return { text: `${lines.join("\n")}\n`, skipped };
}
