// The packet programs (cgroup_skb ingress and egress) and the socket-creation program.
//
// Security reasoning. The sock_addr hooks see only explicit calls; the kernel also binds sockets
// on its own: listen() on an unbound socket takes the wildcard and a free port, sendto() on an
// unbound UDP socket does the same, and raw or ping sockets have their own bind code. Whatever
// path a socket took, each packet one of the jail's sockets sends passes the egress program and
// each packet delivered to one passes the ingress program (the socket carries the cgroup of the
// process that created it, for its whole life, wherever it is later passed). Egress lets a packet
// out only when its IP source is one of the jail's addresses; ingress delivers a packet only when
// its IP destination is one. Both read the packet header the kernel built or received, bounds-
// checked; anything that is not IPv4 or IPv6, or is too short, is dropped. The address map's
// fallback keys (::ffff:0.0.0.0 and ::) and IPv4-mapped IPv6 packet addresses are refused before
// the lookup. sock_create refuses a family the jail has no address of (EAFNOSUPPORT) and every
// protocol but TCP and UDP (and ICMP echo sockets with allow.raw_sockets), so no protocol whose
// bind and connect the hooks do not cover (SCTP, MPTCP, raw) can be opened.
import { Asm, R } from "../../ebpf/asm.js";
import { Net, SkBuff, Sock } from "../../ebpf/abi.js";
import { Errno, keyCopy, keyMapped, keyWords, keyZero, lookup, refuse } from "./common.js";

/** Ingress (check the destination) or egress (check the source) of every packet of the jail's sockets. */
export function skbFilter(dir: "ingress" | "egress"): Asm {
  const v4off = dir === "egress" ? 12 : 16;
  const v6off = dir === "egress" ? 8 : 24;
  const what = dir === "egress" ? "source" : "destination";
  const a = new Asm();
  a.mov(R.r6, R.r1).ldx("w", R.r2, R.r6, SkBuff.data).ldx("w", R.r3, R.r6, SkBuff.data_end)
    .mov(R.r4, R.r2).alu("add", R.r4, 1).jmp("jgt", R.r4, R.r3, "drop")
    .ldx("b", R.r5, R.r2, 0).alu("rsh", R.r5, 4)
    .jmp("jeq", R.r5, 4, "v4").jmp("jeq", R.r5, 6, "v6")
    .label("drop").note("not a jail address, or not IPv4/IPv6").ret(0);
  a.label("v4").mov(R.r4, R.r2).alu("add", R.r4, 20).jmp("jgt", R.r4, R.r3, "drop")
    .note(`IPv4 ${what}`).ldx("w", R.r7, R.r2, v4off).jmp32("jeq", R.r7, 0, "drop");
  keyMapped(a, R.r7);
  lookup(a).jmp("jeq", R.r0, 0, "drop").ret(1);
  a.label("v6").mov(R.r4, R.r2).alu("add", R.r4, 40).jmp("jgt", R.r4, R.r3, "drop").note(`IPv6 ${what}`);
  keyCopy(a, R.r2, v6off, R.r1);
  keyWords(a).jmp("jne", R.r7, 0, "member").jmp32("jeq", R.r8, 0xffff0000, "drop")
    .jmp32("jne", R.r8, 0, "member").jmp32("jeq", R.r9, 0, "drop");
  lookup(a.label("member")).jmp("jeq", R.r0, 0, "drop");
  return a.ret(1);
}

/** sock_create: the family must be one the jail has an address of; TCP and UDP only (and ICMP
 * echo sockets when `ping`); SOCK_RAW never (EPERM, as without CAP_NET_RAW). */
export function sockCreate(opts: { ping: boolean }): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1).ldx("w", R.r7, R.r6, Sock.family).ldx("w", R.r8, R.r6, Sock.type).ldx("w", R.r9, R.r6, Sock.protocol)
    .jmp32("jeq", R.r7, Net.AF_INET6, "v6");
  keyMapped(a.note("does the jail have IPv4?"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "nofamily").ja("types");
  keyZero(a.label("v6").note("does the jail have IPv6?"));
  lookup(a).jmp("jeq", R.r0, 0, "nofamily");
  a.label("types").jmp32("jeq", R.r8, Net.SOCK_RAW, "raw")
    .jmp32("jne", R.r8, Net.SOCK_STREAM, "dgram").jmp32("jeq", R.r9, Net.IPPROTO_TCP, "allow").ja("proto")
    .label("dgram").jmp32("jne", R.r8, Net.SOCK_DGRAM, "proto").jmp32("jeq", R.r9, Net.IPPROTO_UDP, "allow");
  if (opts.ping) a.jmp32("jeq", R.r9, Net.IPPROTO_ICMP, "allow").jmp32("jeq", R.r9, Net.IPPROTO_ICMPV6, "allow");
  refuse(a, "proto", Errno.EPROTONOSUPPORT, "only TCP and UDP");
  refuse(a, "raw", Errno.EPERM, "raw sockets");
  refuse(a, "nofamily", Errno.EAFNOSUPPORT, "the jail has no address of this family");
  return a.label("allow").ret(1);
}
