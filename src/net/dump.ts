// sysjail --policy-dump with -4/-6: the network programs and the address map, for audits.
import { disassemble } from "../ebpf/disasm.js";
import type { JailSpec } from "../spec/types.js";
import { ip6Text, parseJailAddrs } from "./addr.js";
import { mapEntries } from "./map.js";
import { netMode } from "./mode.js";
import { jailPrograms } from "./programs.js";

/** The listing of a spec's network enforcement (empty when the jail would not share the stack). */
export function dumpNet(spec: JailSpec, uid = 0): string {
  const mode = netMode(spec, uid);
  if (mode !== "shared") {
    return mode === "none" ? "" : `\n# network: ${mode} (own network namespace; no eBPF programs)\n`;
  }
  const { v4, v6 } = parseJailAddrs(spec.ip4, spec.ip6, false);
  const lines = ["", "# network: shared stack, enforced by eBPF programs on the jail's cgroup", "# address map (sysjail_addrs):"];
  for (const e of mapEntries(v4, v6)) lines.push(`#   ${ip6Text(e.key).padEnd(24)} -> ${ip6Text(e.value)}`);
  const out = [lines.join("\n")];
  for (const p of jailPrograms({ ping: spec.policy.allowRawSockets })) {
    out.push(`\n# ${p.name}: ${p.attach.toLowerCase()} (${p.program.insns.length} insns): ${p.purpose}\n${disassemble(p.program.insns, { ctx: p.ctx, notes: p.program.notes })}`);
  }
  return out.join("\n");
}
