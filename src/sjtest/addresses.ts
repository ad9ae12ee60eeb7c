// Addresses: -4, -6 and --vnet, on 127.0.0.0/8 and ::1 only, or in a network namespace the test
// makes. A root caller's -4/-6 jail shares the host's stack (eBPF on its cgroup), a user's gets a
// private namespace; either way the host's loopback services stay out of reach.
import { randomInt } from "node:crypto";
import type { Ctx } from "./context.js";
import { lines, show } from "./context.js";
import { ERR, probeCheck } from "./probe.js";
import { hostReaches, tcpListener } from "./servers.js";
import { fail, pass, type SjTest } from "./types.js";

/** A loopback address no other test of this run uses. */
export function loopbackAddr(): string {
  return `127.${randomInt(100, 200)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
}

/** A jail with FLAGS connects to the host's 127.0.0.1 listener: it must not arrive. */
async function noHostLoopback(ctx: Ctx, tag: string, flags: string[]) {
  const l = await tcpListener(ctx, "127.0.0.1");
  if (!(await hostReaches(ctx, l, "tcp4"))) return fail("control: the host cannot reach its own 127.0.0.1 listener");
  const before = l.peers();
  const o = await probeCheck(ctx, tag, { flags, calls: [{ args: ["connect4", "127.0.0.1", String(l.port)], want: ERR }] });
  await l.close();
  if (l.peers() !== before) return fail(`a jail with ${flags.join(" ")} reached the host's 127.0.0.1 listener`);
  return o.pass ? pass(`${flags.join(" ")}: the host's 127.0.0.1 listener is out of reach (${o.reason})`) : o;
}

/** The address tests. */
export function addressTests(): SjTest[] {
  return [
    // breaks when 127.0.0.1 in a -4 jail is the host's loopback (not rewritten to the jail's address)
    { name: "addr-4-loopback", run: (ctx) => noHostLoopback(ctx, "a4", ["-4", loopbackAddr()]) },
    // breaks when a -6 jail can use IPv4 (shared stack: EAFNOSUPPORT) or reach the host's loopback
    { name: "addr-6-no-ipv4", run: (ctx) => noHostLoopback(ctx, "a6", ["-6", "::1"]) },
    {
      // breaks when a vnet jail has no link to its host end, or sees more than lo and its veth;
      // runs in a network namespace sjtest makes (unshare -n), so the host end exists only there
      name: "vnet (root)",
      root: true,
      run: async (ctx) => {
        const name = ctx.name("vnet");
        const r = await ctx.exec("unshare", ["-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
          `${ctx.tools}/sysjail`, "--vnet", "-4", "10.99.0.2", "/", name, ctx.probe, "connect4", "169.254.0.1", "9", "+", "connect4", "127.0.0.1", "9"]);
        const [host, lo] = lines(r);
        // the host end answers (RST: ECONNREFUSED); nothing listens on the jail's own loopback
        if (host === "err ECONNREFUSED" && lo === "err ECONNREFUSED") return pass("the veth's host end answers; the jail's loopback is its own");
        return fail(show(r));
      },
    },
  ];
}
