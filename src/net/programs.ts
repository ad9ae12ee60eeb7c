// The set of programs a shared-stack jail gets: one per cgroup hook, with its attach type.
import { AttachType, progTypeOf, type AttachName } from "../ebpf/abi.js";
import type { Asm, Program } from "../ebpf/asm.js";
import type { CtxKind } from "../ebpf/disasm.js";
import { encode } from "../ebpf/insn.js";
import { skbFilter, sockCreate } from "./bpf/skb.js";
import { bind4, bind6, connect4, connect6, getsockname4, getsockname6, sendmsg4, sendmsg6 } from "./bpf/sockaddr.js";

/** One generated program: kernel name (<= 15 chars), hook, what it does, and its code. */
export interface JailProgram {
  name: string;
  attach: AttachName;
  attachType: number;
  progType: number;
  ctx: CtxKind;
  purpose: string;
  program: Program;
  bytes: Uint8Array;
}

/** Options that change the programs (not the addresses: those live in the map). */
export interface ProgramOptions {
  /** allow.raw_sockets: ICMP echo ("ping") sockets may be created. */
  ping: boolean;
  /** Host uid of jail root: its binds of ports below 1024 skip CAP_NET_BIND_SERVICE (sockaddr.ts). */
  rootUid?: number | undefined;
}

const TABLE: [string, AttachName, string, (o: ProgramOptions) => Asm][] = [
  ["sj_sock", "INET_SOCK_CREATE", "families the jail has addresses of; TCP and UDP only", (o) => sockCreate(o)],
  ["sj_bind4", "INET4_BIND", "wildcard and 127.0.0.1 -> first address; others EADDRNOTAVAIL; jail root: ports < 1024", (o) => bind4(o)],
  ["sj_bind6", "INET6_BIND", ":: and ::1 -> first address; IPv4-mapped by the IPv4 rules; jail root: ports < 1024", (o) => bind6(o)],
  ["sj_conn4", "INET4_CONNECT", "source = a jail address; 127.0.0.1 -> the jail's own", connect4],
  ["sj_conn6", "INET6_CONNECT", "source = a jail address of the destination's kind", connect6],
  ["sj_send4", "UDP4_SENDMSG", "datagram source = a jail address", sendmsg4],
  ["sj_send6", "UDP6_SENDMSG", "datagram source = a jail address", sendmsg6],
  ["sj_name4", "INET4_GETSOCKNAME", "an implicitly bound wildcard shows the first address", getsockname4],
  ["sj_name6", "INET6_GETSOCKNAME", "an implicitly bound wildcard shows the first address", getsockname6],
  ["sj_egress", "INET_EGRESS", "every packet's source is a jail address", () => skbFilter("egress")],
  ["sj_ingress", "INET_INGRESS", "every packet's destination is a jail address", () => skbFilter("ingress")],
];

/** The programs of a shared-stack jail, in the order the helper loads and attaches them. */
export function jailPrograms(opts: ProgramOptions): JailProgram[] {
  return TABLE.map(([name, attach, purpose, gen]) => {
    const program = gen(opts).build();
    const progType = progTypeOf(attach);
    const ctx: CtxKind = attach === "INET_INGRESS" || attach === "INET_EGRESS" ? "skb" : attach === "INET_SOCK_CREATE" ? "sock" : "sock_addr";
    return { name, attach, attachType: AttachType[attach], progType, ctx, purpose, program, bytes: encode(program.insns) };
  });
}
