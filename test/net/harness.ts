// Runs the generated network programs in the test interpreter against a model of the kernel:
// an address map, a struct bpf_sock_addr / bpf_sock / __sk_buff, bpf_bind and bpf_set_retval.
import { Helper, SockAddr, Sock, SkBuff } from "../../src/ebpf/abi.js";
import { mem, run, type HelperFn, type Mem, type Ptr } from "../../src/ebpf/interp.js";
import { ip4Bytes, ip6Bytes, ip6Text, mapped4, parseJailAddrs } from "../../src/net/addr.js";
import { mapEntries } from "../../src/net/map.js";
import type { Program } from "../../src/ebpf/asm.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** The 16-byte form of an address text (IPv4 as ::ffff:a.b.c.d). */
export function key16(t: string): Uint8Array {
  return t.includes(":") ? ip6Bytes(t)! : mapped4(ip4Bytes(t)!);
}

/** A model of the address map for these address lists. */
export function modelMap(ip4: string[], ip6: string[]): Map<string, Uint8Array> {
  const { v4, v6 } = parseJailAddrs(ip4, ip6, false);
  return new Map(mapEntries(v4, v6).map((e) => [hex(e.key), e.value]));
}

/** What one run did. */
export interface Outcome {
  ret: bigint;
  retval: number | undefined;
  /** The address in the context afterwards (user_ip4 / user_ip6), as text. */
  user: string;
  /** msg_src_ip4 / msg_src_ip6 afterwards. */
  msgSrc: string;
  /** The socket's address after any bpf_bind. */
  sockSrc: string;
  binds: string[];
}

function helpers(map: Map<string, Uint8Array>, state: { retval?: number; binds: string[]; sock: Mem }): Record<number, HelperFn> {
  return {
    [Helper.map_lookup_elem]: (args, vm) => {
      const v = map.get(hex(vm.read(args[1] as Ptr, 16)));
      return v ? { mem: { name: "value", bytes: Uint8Array.from(v), writable: () => false }, off: 0 } : 0n;
    },
    [Helper.set_retval]: (args) => { state.retval = Number(BigInt.asIntN(32, args[0] as bigint)); return 0n; },
    [Helper.bind]: (args, vm) => {
      const len = Number(args[2] as bigint);
      const sa = vm.read(args[1] as Ptr, len);
      const dv = new DataView(state.sock.bytes.buffer);
      const fam = sa[0]! | (sa[1]! << 8);
      const bound = state.sock.bytes.subarray(Sock.src_ip6, Sock.src_ip6 + 16).some((x) => x !== 0) || dv.getUint32(Sock.src_ip4, true) !== 0;
      if (bound) return BigInt.asUintN(64, -22n);
      if (fam === 2) {
        state.sock.bytes.set(sa.subarray(4, 8), Sock.src_ip4);
        state.binds.push(ip6Text(mapped4(sa.subarray(4, 8))));
      } else {
        state.sock.bytes.set(sa.subarray(8, 24), Sock.src_ip6);
        state.sock.bytes.set(sa.subarray(20, 24), Sock.src_ip4);
        state.binds.push(ip6Text(sa.subarray(8, 24)));
      }
      return 0n;
    },
  };
}

const WRITABLE = new Set([SockAddr.user_ip4, SockAddr.user_port, SockAddr.msg_src_ip4,
  ...[0, 4, 8, 12].map((i) => SockAddr.user_ip6 + i), ...[0, 4, 8, 12].map((i) => SockAddr.msg_src_ip6 + i)]);

/** Runs a sock_addr program: `user` is the address of the call, `msgSrc` the datagram source the
 * kernel would use, `sockSrc` the socket's current bound address ("" for none). */
export function runSockAddr(prog: Program, o: { map: Map<string, Uint8Array>; user: string; port?: number; msgSrc?: string; sockSrc?: string }): Outcome {
  const v6 = o.user.includes(":");
  const ctx = mem("ctx", 72);
  const sock = mem("sock", 80);
  ctx.writable = (off) => WRITABLE.has(off);
  const state: { retval?: number; binds: string[]; sock: Mem } = { binds: [], sock };
  ctx.ptrs = new Map([[SockAddr.sk, { mem: sock, off: 0 }]]);
  const dv = new DataView(ctx.bytes.buffer);
  dv.setUint32(SockAddr.user_family, v6 ? 10 : 2, true);
  dv.setUint32(SockAddr.family, v6 ? 10 : 2, true);
  if (v6) ctx.bytes.set(ip6Bytes(o.user)!, SockAddr.user_ip6);
  else ctx.bytes.set(ip4Bytes(o.user)!, SockAddr.user_ip4);
  dv.setUint16(SockAddr.user_port, o.port ?? 0, false);
  if (o.msgSrc) {
    if (v6) ctx.bytes.set(ip6Bytes(o.msgSrc)!, SockAddr.msg_src_ip6);
    else ctx.bytes.set(ip4Bytes(o.msgSrc)!, SockAddr.msg_src_ip4);
  }
  if (o.sockSrc) {
    const k = key16(o.sockSrc);
    if (o.sockSrc.includes(":")) sock.bytes.set(k, Sock.src_ip6);
    sock.bytes.set(k.subarray(12), Sock.src_ip4);
    if (!o.sockSrc.includes(":") && v6) sock.bytes.set(k, Sock.src_ip6);
  }
  const ret = run(prog.insns, { ctx, maps: [mem("map", 1)], helpers: helpers(o.map, state) });
  const user = v6 ? ip6Text(ctx.bytes.subarray(SockAddr.user_ip6, SockAddr.user_ip6 + 16)) : ip6Text(mapped4(ctx.bytes.subarray(SockAddr.user_ip4, SockAddr.user_ip4 + 4))).slice(7);
  const msgSrc = v6 ? ip6Text(ctx.bytes.subarray(SockAddr.msg_src_ip6, SockAddr.msg_src_ip6 + 16)) : ip6Text(mapped4(ctx.bytes.subarray(SockAddr.msg_src_ip4, SockAddr.msg_src_ip4 + 4))).slice(7);
  const s6 = sock.bytes.subarray(Sock.src_ip6, Sock.src_ip6 + 16);
  const sockSrc = v6 ? ip6Text(s6) : ip6Text(mapped4(sock.bytes.subarray(Sock.src_ip4, Sock.src_ip4 + 4))).slice(7);
  return { ret, retval: state.retval, user, msgSrc, sockSrc, binds: state.binds };
}

/** Runs sock_create for a family (2|10), type and protocol. */
export function runSockCreate(prog: Program, map: Map<string, Uint8Array>, family: number, type: number, protocol: number): { ret: bigint; retval: number | undefined } {
  const ctx = mem("ctx", 80);
  const dv = new DataView(ctx.bytes.buffer);
  dv.setUint32(Sock.family, family, true);
  dv.setUint32(Sock.type, type, true);
  dv.setUint32(Sock.protocol, protocol, true);
  const state: { retval?: number; binds: string[]; sock: Mem } = { binds: [], sock: ctx };
  const ret = run(prog.insns, { ctx, maps: [mem("map", 1)], helpers: helpers(map, state) });
  return { ret, retval: state.retval };
}

/** A minimal IP header from src to dst (IPv4 or IPv6 by the text). */
export function packet(src: string, dst: string): Uint8Array {
  if (src.includes(":")) {
    const p = new Uint8Array(60);
    p[0] = 0x60;
    p.set(ip6Bytes(src)!, 8);
    p.set(ip6Bytes(dst)!, 24);
    return p;
  }
  const p = new Uint8Array(40);
  p[0] = 0x45;
  p.set(ip4Bytes(src)!, 12);
  p.set(ip4Bytes(dst)!, 16);
  return p;
}

/** Runs an skb program on a packet; 1n: pass, 0n: drop. */
export function runSkb(prog: Program, map: Map<string, Uint8Array>, pkt: Uint8Array): bigint {
  const ctx = mem("skb", 192);
  const data: Mem = { name: "packet", bytes: pkt };
  ctx.ptrs = new Map([[SkBuff.data, { mem: data, off: 0 }], [SkBuff.data_end, { mem: data, off: pkt.byteLength }]]);
  const state: { retval?: number; binds: string[]; sock: Mem } = { binds: [], sock: ctx };
  return run(prog.insns, { ctx, maps: [mem("map", 1)], helpers: helpers(map, state) });
}
