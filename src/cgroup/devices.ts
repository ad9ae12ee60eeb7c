// The device cgroup: which device nodes a jail's processes may open for reading or writing (or
// make), by type and numbers. v1: the devices controller's devices.deny/devices.allow files;
// v2: a BPF_PROG_TYPE_CGROUP_DEVICE program compiled here, which the helper only loads and attaches.
import { Asm, R } from "../ebpf/asm.js";
import { emptyPart, write, type ControllerPart } from "./controller.js";

/** One rule, in order: a later rule that matches a request decides it (the runtime-spec's order). */
export interface DeviceRule {
  allow: boolean;
  /** "a": every device (its numbers are then ignored). */
  type: "a" | "c" | "b";
  /** -1: any number. */
  major: number;
  minor: number;
  /** A non-empty subset of "rwm". */
  access: string;
}

/** bpf_prog_type BPF_PROG_TYPE_CGROUP_DEVICE. */
export const DEVICE_PROG_TYPE = 15;
/** bpf_attach_type BPF_CGROUP_DEVICE. */
export const DEVICE_ATTACH_TYPE = 6;
/** struct bpf_cgroup_dev_ctx: access_type (type | access << 16), major, minor (u32 each). */
const DEVCG_TYPE = { b: 1, c: 2 } as const;
const DEVCG_ACC: Record<string, number> = { m: 1, r: 2, w: 4 };

const num = (n: number) => (n < 0 ? "*" : String(n));

/** The rule as the v1 files read it: "c 1:3 rwm", "a" for every device. */
export function ruleText(r: DeviceRule): string {
  return r.type === "a" ? "a" : `${r.type} ${num(r.major)}:${num(r.minor)} ${r.access}`;
}

/** v1: nothing first (devices.deny "a": no device, no exception), then each rule written in
 * order into devices.allow or devices.deny, as the kernel applies them. Written by the monitor
 * before the jail's init joins the cgroup. */
export function devicesV1(dir: string, rules: readonly DeviceRule[]): ControllerPart {
  const part = emptyPart();
  write(part, dir, "devices.deny", "a", "device cgroup: no device unless a rule allows it");
  for (const r of rules) write(part, dir, r.allow ? "devices.allow" : "devices.deny", ruleText(r));
  return part;
}

const accessBits = (a: string) => [...a].reduce((m, c) => m | (DEVCG_ACC[c] ?? 0), 0);

/** v2: the rules as a cgroup device program. The rules are tried from the last to the first;
 * the first that matches decides (1: allowed, 0: refused); none: refused. An allow rule matches
 * when it grants every asked access, a deny rule when it refuses any of them. */
export function deviceProgram(rules: readonly DeviceRule[]): Uint8Array {
  const a = new Asm();
  a.note("r2 = device type (1 block, 2 char)").ldx("w", R.r2, R.r1, 0).alu32("and", R.r2, 0xffff);
  a.note("r3 = access asked (1 mknod, 2 read, 4 write)").ldx("w", R.r3, R.r1, 0).alu32("rsh", R.r3, 16);
  a.note("r4 = major").ldx("w", R.r4, R.r1, 4);
  a.note("r5 = minor").ldx("w", R.r5, R.r1, 8);
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    const next = a.fresh("rule");
    a.note(`${r.allow ? "allow" : "deny"} ${ruleText(r)}`);
    if (r.type !== "a") {
      a.jmp32("jne", R.r2, DEVCG_TYPE[r.type], next);
      if (r.major >= 0) a.jmp32("jne", R.r4, r.major, next);
      if (r.minor >= 0) a.jmp32("jne", R.r5, r.minor, next);
    }
    const bits = accessBits(r.type === "a" ? "rwm" : r.access);
    if (r.allow) a.mov(R.r0, R.r3).alu32("and", R.r0, ~bits & 7).jmp32("jne", R.r0, 0, next);
    else a.jmp("jset", R.r3, bits, `${next}.hit`).ja(next).label(`${next}.hit`);
    a.ret(r.allow ? 1 : 0);
    a.label(next);
  }
  a.note("no rule matched: refused").ret(0);
  return a.bytes();
}
