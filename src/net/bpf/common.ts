// Building blocks of the jail's network programs: the stack layout, the address-map key, lookups
// of members and of the fallback ("primary") addresses, and refusals with an errno.
//
// The address map (one per jail, BPF_MAP_TYPE_HASH, 16-byte keys and values) holds:
//   ::ffff:0.0.0.0  -> ::ffff:A4   the first -4 address (absent: the jail has no IPv4)
//   ::              -> A6          the first -6 address (absent: no IPv6)
//   every jail address (IPv4 as ::ffff:a.b.c.d) -> itself
// The two fallback keys are never jail addresses (parseJailAddr refuses 0.0.0.0/8 and ::), and
// every program below sends 0.0.0.0, ::ffff:0.0.0.0 and :: down the fallback path before any
// member lookup, so a lookup can never mistake a fallback entry for a member.
import { Asm, R, type Reg } from "../../ebpf/asm.js";
import { Helper } from "../../ebpf/abi.js";

/** Stack offset (from r10) of the 16-byte map key. */
export const KEY = -16;
/** Stack offset of a struct sockaddr_in / sockaddr_in6 for bpf_bind (28 bytes). */
export const SA = -48;

/** Address words as a little-endian load of network-order bytes gives them. */
export const W = {
  /** 127.0.0.1 */
  LOOP4: 0x0100007f,
  /** the last word of ::1 */
  LOOP6_LAST: 0x01000000,
  /** the third word of ::ffff:a.b.c.d (bytes 00 00 ff ff) */
  MAPPED: 0xffff0000,
} as const;

/** errno values the programs return through bpf_set_retval. */
export const Errno = { EPERM: 1, EPROTONOSUPPORT: 93, EAFNOSUPPORT: 97, EADDRNOTAVAIL: 99, ENETUNREACH: 101 } as const;

/** key = ::ffff:<reg> (reg holds an IPv4 address as loaded from memory), or ::ffff:0.0.0.0 for 0. */
export function keyMapped(a: Asm, v4: Reg | 0): Asm {
  a.st("w", R.r10, KEY, 0).st("w", R.r10, KEY + 4, 0).st("w", R.r10, KEY + 8, W.MAPPED);
  return v4 === 0 ? a.st("w", R.r10, KEY + 12, 0) : a.stx("w", R.r10, KEY + 12, v4);
}

/** key = :: (the IPv6 fallback key). */
export function keyZero(a: Asm): Asm {
  return a.st("dw", R.r10, KEY, 0).st("dw", R.r10, KEY + 8, 0);
}

/** key = the 16 bytes at base+off (through tmp, which must not be base). */
export function keyCopy(a: Asm, base: Reg, off: number, tmp: Reg): Asm {
  for (let i = 0; i < 16; i += 4) a.ldx("w", tmp, base, off + i).stx("w", R.r10, KEY + i, tmp);
  return a;
}

/** r7 = word0|word1, r8 = word2, r9 = word3 of the key: enough to classify an IPv6 address. */
export function keyWords(a: Asm): Asm {
  return a
    .ldx("w", R.r7, R.r10, KEY).ldx("w", R.r1, R.r10, KEY + 4).alu("or", R.r7, R.r1)
    .ldx("w", R.r8, R.r10, KEY + 8).ldx("w", R.r9, R.r10, KEY + 12);
}

/** r0 = the map value for the key, or 0. Clobbers r1-r5. */
export function lookup(a: Asm): Asm {
  return a.ldMap(R.r1, 0).mov(R.r2, R.r10).alu("add", R.r2, KEY).call(Helper.map_lookup_elem);
}

/** Copies the 16-byte value at r0 into the context at `off` (4-byte stores, as the context allows). */
export function valueToCtx(a: Asm, ctx: Reg, off: number): Asm {
  for (let i = 0; i < 16; i += 4) a.ldx("w", R.r1, R.r0, i).stx("w", ctx, off + i, R.r1);
  return a;
}

/** A refusal: the syscall fails with `errno` (bpf_set_retval), the program returns 0. */
export function refuse(a: Asm, label: string, errno: number, why: string): Asm {
  return a.label(label).note(why).mov(R.r1, -errno).call(Helper.set_retval).ret(0);
}

/** bpf_bind(ctx, &SA, len): give an unbound socket its source address before connect. The result
 * is not trusted: the caller re-reads the socket's address and checks it. */
export function bindFromStack(a: Asm, ctx: Reg, len: number): Asm {
  return a.mov(R.r1, ctx).mov(R.r2, R.r10).alu("add", R.r2, SA).mov(R.r3, len).call(Helper.bind);
}
