// The sock_addr programs: bind, connect, sendmsg and getsockname, for IPv4 and IPv6.
//
// Security reasoning. These hooks run on the kernel's copy of the address (struct bpf_sock_addr
// is filled from the sockaddr the kernel already copied in), so nothing the jail does to its own
// memory after the call can change what was checked. bind: the wildcard and 127.0.0.1 / ::1 become
// the jail's first address; a listed address stays; anything else fails with EADDRNOTAVAIL.
// connect: 127.0.0.1 / ::1 as destination becomes the jail's first address (the jail's loopback
// is its own address, as on FreeBSD); then the socket's own address is read back from the kernel
// socket (ctx->sk): an unbound socket is first bound to the first address with bpf_bind (port
// chosen at connect time), and the connect is allowed only when the bound address is one of the
// jail's, of the destination's family (an IPv4-mapped destination needs an IPv4-mapped source, so
// a dual-stack socket cannot reach IPv4 from an IPv6 or a kernel-chosen source). A socket the
// kernel bound implicitly to the wildcard (listen or sendto without bind) cannot be connected: its
// source would be the route's, not the jail's. sendmsg (unconnected UDP): the source the kernel
// would use (bound address, or IP_PKTINFO's) must be a jail address; none means the first. The
// egress program checks every packet's source again, so a path these hooks miss cannot leak.
//
// Privileged ports (bind, rootUid given). The jail shares the host's network namespace, which
// belongs to the host's user namespace, so the kernel's CAP_NET_BIND_SERVICE check for a port
// below 1024 fails for every jail process. An allowed bind returns 3 instead of 1 (Linux 5.11+:
// the cgroup program lets the kernel skip that check) only when the port is below 1024 and the
// caller's real uid, as bpf_get_current_uid_gid reads it from the kernel's credentials in the
// host's user namespace, is the host uid of jail root (known at plan time from the id map).
// Other jail users get EACCES from the kernel as on a host; the address rules above are unchanged,
// so root too binds only the jail's own addresses.
import { Asm, R } from "../../ebpf/asm.js";
import { Helper, Net, SockAddr as C, Sock } from "../../ebpf/abi.js";
import { bindFromStack, Errno, keyCopy, keyMapped, keyWords, keyZero, lookup, refuse, SA, valueToCtx, W } from "./common.js";

/** The end of an allowed bind: 3 (skip the CAP_NET_BIND_SERVICE check) for jail root and a port
 * below 1024, else 1. user_port holds the port in network order: its first byte is the high one. */
function allowBind(a: Asm, rootUid: number | undefined): Asm {
  a.label("allow");
  if (rootUid === undefined) return a.ret(1);
  a.ldx("w", R.r7, R.r6, C.user_port).alu("and", R.r7, 0xff).jmp32("jge", R.r7, 4, "plain")
    .note("port < 1024: jail root may bind it").call(Helper.get_current_uid_gid)
    .jmp32("jne", R.r0, rootUid, "plain").ret(3);
  return a.label("plain").ret(1);
}

/** bind4: wildcard and 127.0.0.1 -> first IPv4 address; listed addresses stay; others refused. */
export function bind4(opts: { rootUid?: number | undefined } = {}): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1).ldx("w", R.r7, R.r6, C.user_ip4)
    .jmp32("jeq", R.r7, 0, "primary").jmp32("jeq", R.r7, W.LOOP4, "primary");
  keyMapped(a.note("member?"), R.r7);
  lookup(a).jmp("jne", R.r0, 0, "allow");
  refuse(a, "deny", Errno.EADDRNOTAVAIL, "not a jail address");
  keyMapped(a.label("primary").note("first IPv4 address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "deny")
    .ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.user_ip4, R.r1);
  return allowBind(a, opts.rootUid);
}

/** bind6: :: and ::1 -> first IPv6 address; ::ffff:0.0.0.0 and ::ffff:127.0.0.1 -> ::ffff:first IPv4. */
export function bind6(opts: { rootUid?: number | undefined } = {}): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1);
  keyCopy(a, R.r6, C.user_ip6, R.r1);
  keyWords(a)
    .jmp("jne", R.r7, 0, "member")
    .jmp32("jne", R.r8, 0, "w2")
    .jmp32("jeq", R.r9, 0, "primary6").jmp32("jeq", R.r9, W.LOOP6_LAST, "primary6").ja("member")
    .label("w2").jmp32("jne", R.r8, W.MAPPED, "member")
    .jmp32("jeq", R.r9, 0, "primary4").jmp32("jeq", R.r9, W.LOOP4, "primary4");
  lookup(a.label("member").note("member?")).jmp("jne", R.r0, 0, "allow");
  refuse(a, "deny", Errno.EADDRNOTAVAIL, "not a jail address");
  keyZero(a.label("primary6").note("first IPv6 address"));
  valueToCtx(lookup(a).jmp("jeq", R.r0, 0, "deny"), R.r6, C.user_ip6).ja("allow");
  keyMapped(a.label("primary4").note("::ffff:first IPv4 address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "deny").ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.user_ip6 + 12, R.r1);
  return allowBind(a, opts.rootUid);
}

/** connect4: 127.0.0.1 -> first address; the socket's source must be (or become) a jail address. */
export function connect4(): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1).ldx("w", R.r7, R.r6, C.user_ip4).jmp32("jne", R.r7, W.LOOP4, "source");
  keyMapped(a.note("127.0.0.1 is the jail's own address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "unreach").ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.user_ip4, R.r1);
  a.label("source").ldx("dw", R.r1, R.r6, C.sk).ldx("w", R.r7, R.r1, Sock.src_ip4).jmp32("jne", R.r7, 0, "check");
  keyMapped(a.note("unbound: bind to the first address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "deny").ldx("w", R.r1, R.r0, 12)
    .st("w", R.r10, SA, Net.AF_INET).stx("w", R.r10, SA + 4, R.r1).st("dw", R.r10, SA + 8, 0);
  bindFromStack(a, R.r6, 16).ldx("dw", R.r1, R.r6, C.sk).ldx("w", R.r7, R.r1, Sock.src_ip4);
  a.label("check").jmp32("jeq", R.r7, 0, "deny");
  keyMapped(a.note("source a jail address?"), R.r7);
  lookup(a).jmp("jne", R.r0, 0, "allow");
  refuse(a, "deny", Errno.EADDRNOTAVAIL, "source is not a jail address");
  refuse(a, "unreach", Errno.ENETUNREACH, "no address of this family");
  return a.label("allow").ret(1);
}

/** Loads the socket's bound IPv6 address into the key and classifies it (r7, r8, r9). */
function sourceWords(a: Asm): Asm {
  a.ldx("dw", R.r1, R.r6, C.sk);
  return keyWords(keyCopy(a, R.r1, Sock.src_ip6, R.r2));
}

/** connect6: ::1 -> first IPv6, ::ffff:127.0.0.1 -> ::ffff:first IPv4; the source must be a jail
 * address of the destination's kind (IPv4-mapped for an IPv4-mapped destination). */
export function connect6(): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1);
  keyCopy(a, R.r6, C.user_ip6, R.r1);
  keyWords(a).jmp("jne", R.r7, 0, "want6")
    .jmp32("jeq", R.r8, W.MAPPED, "dmapped").jmp32("jne", R.r8, 0, "want6").jmp32("jne", R.r9, W.LOOP6_LAST, "want6");
  keyZero(a.note("::1 is the jail's own address"));
  valueToCtx(lookup(a).jmp("jeq", R.r0, 0, "unreach"), R.r6, C.user_ip6).ja("want6");
  a.label("dmapped").jmp32("jne", R.r9, W.LOOP4, "want4");
  keyMapped(a.note("::ffff:127.0.0.1 is the jail's own address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "unreach").ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.user_ip6 + 12, R.r1);
  // IPv4-mapped destination: the source must be ::ffff:<jail IPv4 address>
  sourceWords(a.label("want4").note("IPv4-mapped destination"))
    .jmp("jne", R.r7, 0, "deny").jmp32("jne", R.r8, 0, "check4").jmp32("jne", R.r9, 0, "deny");
  keyMapped(a.note("unbound: bind to ::ffff:first IPv4 address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "unreach").ldx("w", R.r1, R.r0, 12)
    .st("w", R.r10, SA, Net.AF_INET6).st("w", R.r10, SA + 4, 0).st("dw", R.r10, SA + 8, 0)
    .st("w", R.r10, SA + 16, W.MAPPED).stx("w", R.r10, SA + 20, R.r1).st("w", R.r10, SA + 24, 0);
  sourceWords(bindFromStack(a, R.r6, 28)).jmp("jne", R.r7, 0, "deny");
  a.label("check4").jmp32("jne", R.r8, W.MAPPED, "deny").jmp32("jeq", R.r9, 0, "deny");
  lookup(a).jmp("jne", R.r0, 0, "allow").ja("deny");
  // IPv6 destination: the source must be a jail IPv6 address
  sourceWords(a.label("want6").note("IPv6 destination"))
    .jmp("jne", R.r7, 0, "check6").jmp32("jeq", R.r8, W.MAPPED, "deny").jmp32("jne", R.r8, 0, "check6")
    .jmp32("jne", R.r9, 0, "check6");
  keyZero(a.note("unbound: bind to the first IPv6 address"));
  lookup(a).jmp("jeq", R.r0, 0, "deny")
    .st("w", R.r10, SA, Net.AF_INET6).st("w", R.r10, SA + 4, 0);
  for (let i = 0; i < 16; i += 4) a.ldx("w", R.r1, R.r0, i).stx("w", R.r10, SA + 8 + i, R.r1);
  a.st("w", R.r10, SA + 24, 0);
  sourceWords(bindFromStack(a, R.r6, 28));
  a.label("check6").note("not ::, not IPv4-mapped, a member")
    .jmp("jne", R.r7, 0, "lookup6").jmp32("jeq", R.r8, W.MAPPED, "deny")
    .jmp32("jne", R.r8, 0, "lookup6").jmp32("jeq", R.r9, 0, "deny");
  lookup(a.label("lookup6")).jmp("jne", R.r0, 0, "allow");
  refuse(a, "deny", Errno.EADDRNOTAVAIL, "source is not a jail address");
  refuse(a, "unreach", Errno.ENETUNREACH, "no address of this family");
  return a.label("allow").ret(1);
}

/** sendmsg4 (unconnected UDP): 127.0.0.1 -> first address; the source (bound or IP_PKTINFO) must
 * be a jail address; none or 127.0.0.1 means the first. */
export function sendmsg4(): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1).ldx("w", R.r7, R.r6, C.user_ip4).jmp32("jne", R.r7, W.LOOP4, "source");
  keyMapped(a.note("127.0.0.1 is the jail's own address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "unreach").ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.user_ip4, R.r1);
  a.label("source").ldx("w", R.r7, R.r6, C.msg_src_ip4)
    .jmp32("jeq", R.r7, 0, "first").jmp32("jeq", R.r7, W.LOOP4, "first");
  keyMapped(a.note("source a jail address?"), R.r7);
  lookup(a).jmp("jne", R.r0, 0, "allow");
  refuse(a, "deny", Errno.EADDRNOTAVAIL, "source is not a jail address");
  refuse(a, "unreach", Errno.ENETUNREACH, "no address of this family");
  keyMapped(a.label("first").note("no source: the first address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "deny").ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.msg_src_ip4, R.r1);
  return a.label("allow").ret(1);
}

/** sendmsg6: ::1 -> first IPv6; the source must be a jail address of the destination's kind. */
export function sendmsg6(): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1);
  keyCopy(a, R.r6, C.user_ip6, R.r1);
  keyWords(a).jmp("jne", R.r7, 0, "source6")
    .jmp32("jeq", R.r8, W.MAPPED, "source4").jmp32("jne", R.r8, 0, "source6").jmp32("jne", R.r9, W.LOOP6_LAST, "source6");
  keyZero(a.note("::1 is the jail's own address"));
  valueToCtx(lookup(a).jmp("jeq", R.r0, 0, "unreach"), R.r6, C.user_ip6);
  // IPv6 destination
  keyCopy(a.label("source6"), R.r6, C.msg_src_ip6, R.r1);
  keyWords(a).jmp("jne", R.r7, 0, "member").jmp32("jeq", R.r8, W.MAPPED, "deny").jmp32("jne", R.r8, 0, "member")
    .jmp32("jeq", R.r9, 0, "first6").jmp32("jeq", R.r9, W.LOOP6_LAST, "first6");
  lookup(a.label("member").note("source a jail address?")).jmp("jne", R.r0, 0, "allow");
  refuse(a, "deny", Errno.EADDRNOTAVAIL, "source is not a jail address");
  refuse(a, "unreach", Errno.ENETUNREACH, "no address of this family");
  keyZero(a.label("first6").note("no source: the first IPv6 address"));
  valueToCtx(lookup(a).jmp("jeq", R.r0, 0, "deny"), R.r6, C.msg_src_ip6).ja("allow");
  // IPv4-mapped destination (normally diverted to sendmsg4 by the kernel; checked here too)
  keyCopy(a.label("source4"), R.r6, C.msg_src_ip6, R.r1);
  keyWords(a).jmp("jne", R.r7, 0, "deny").jmp32("jeq", R.r8, W.MAPPED, "mapped4").jmp32("jne", R.r8, 0, "deny")
    .jmp32("jne", R.r9, 0, "deny");
  keyMapped(a.note("no source: ::ffff:first IPv4 address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "deny").mov(R.r1, 0)
    .stx("w", R.r6, C.msg_src_ip6, R.r1).stx("w", R.r6, C.msg_src_ip6 + 4, R.r1)
    .mov32(R.r1, W.MAPPED).stx("w", R.r6, C.msg_src_ip6 + 8, R.r1)
    .ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.msg_src_ip6 + 12, R.r1).ja("allow");
  a.label("mapped4").jmp32("jeq", R.r9, 0, "deny");
  lookup(a).jmp("jeq", R.r0, 0, "deny");
  return a.label("allow").ret(1);
}

/** getsockname4: a socket the kernel bound to the wildcard on its own (listen or sendto without
 * bind) reports the jail's first address, which is the only address it can be reached at. */
export function getsockname4(): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1).ldx("w", R.r7, R.r6, C.user_ip4).jmp32("jne", R.r7, 0, "out")
    .ldx("w", R.r7, R.r6, C.user_port).jmp32("jeq", R.r7, 0, "out");
  keyMapped(a.note("wildcard with a port: report the first address"), 0);
  lookup(a).jmp("jeq", R.r0, 0, "out").ldx("w", R.r1, R.r0, 12).stx("w", R.r6, C.user_ip4, R.r1);
  return a.label("out").ret(1);
}

/** getsockname6: the same for IPv6 (:: with a port -> the first IPv6 address). */
export function getsockname6(): Asm {
  const a = new Asm();
  a.mov(R.r6, R.r1);
  keyCopy(a, R.r6, C.user_ip6, R.r1);
  keyWords(a).alu("or", R.r7, R.r8).alu("or", R.r7, R.r9).jmp("jne", R.r7, 0, "out")
    .ldx("w", R.r7, R.r6, C.user_port).jmp32("jeq", R.r7, 0, "out");
  keyZero(a.note("wildcard with a port: report the first IPv6 address"));
  valueToCtx(lookup(a).jmp("jeq", R.r0, 0, "out"), R.r6, C.user_ip6);
  return a.label("out").ret(1);
}
