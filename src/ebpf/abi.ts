// Kernel ABI numbers for cgroup eBPF programs (linux/bpf.h): program and attach types, helper ids,
// map types, and the context layouts the programs read (struct bpf_sock_addr, bpf_sock, __sk_buff).

/** enum bpf_prog_type (the ones sysjail loads). */
export const ProgType = { CGROUP_SKB: 8, CGROUP_SOCK: 9, CGROUP_SOCK_ADDR: 18 } as const;

/** enum bpf_attach_type (the cgroup hooks). */
export const AttachType = {
  INET_INGRESS: 0,
  INET_EGRESS: 1,
  INET_SOCK_CREATE: 2,
  INET4_BIND: 8,
  INET6_BIND: 9,
  INET4_CONNECT: 10,
  INET6_CONNECT: 11,
  INET4_POST_BIND: 12,
  INET6_POST_BIND: 13,
  UDP4_SENDMSG: 14,
  UDP6_SENDMSG: 15,
  UDP4_RECVMSG: 19,
  UDP6_RECVMSG: 20,
  INET4_GETPEERNAME: 29,
  INET6_GETPEERNAME: 30,
  INET4_GETSOCKNAME: 31,
  INET6_GETSOCKNAME: 32,
} as const;

/** The name of a cgroup attach type sysjail uses. */
export type AttachName = keyof typeof AttachType;

/** The program type each attach type takes. */
export function progTypeOf(a: AttachName): number {
  if (a === "INET_INGRESS" || a === "INET_EGRESS") return ProgType.CGROUP_SKB;
  if (a === "INET_SOCK_CREATE" || a === "INET4_POST_BIND" || a === "INET6_POST_BIND") return ProgType.CGROUP_SOCK;
  return ProgType.CGROUP_SOCK_ADDR;
}

/** Helper function ids (enum bpf_func_id). */
export const Helper = { map_lookup_elem: 1, map_update_elem: 2, map_delete_elem: 3, get_current_uid_gid: 15, skb_load_bytes: 26, bind: 64, get_retval: 186, set_retval: 187 } as const;

/** Helper names by id, for listings. */
export const HELPER_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Helper).map(([n, v]) => [v, n]));

/** enum bpf_map_type (the one sysjail creates). */
export const MapType = { HASH: 1 } as const;

/** BPF_F_* attach flags. sysjail attaches with none: no override, no multi, so nothing below the
 * jail's cgroup can replace or add to its programs. */
export const AttachFlag = { ALLOW_OVERRIDE: 1, ALLOW_MULTI: 2, REPLACE: 4 } as const;

/** struct bpf_sock_addr: the context of bind/connect/sendmsg/recvmsg/getname hooks. Addresses and
 * ports are in network byte order, exactly as the kernel copied them from the caller. */
export const SockAddr = {
  user_family: 0,
  user_ip4: 4,
  user_ip6: 8,
  user_port: 24,
  family: 28,
  type: 32,
  protocol: 36,
  msg_src_ip4: 40,
  msg_src_ip6: 44,
  sk: 64,
} as const;

/** struct bpf_sock: the context of sock_create, and what sock_addr's `sk` points to. */
export const Sock = {
  bound_dev_if: 0,
  family: 4,
  type: 8,
  protocol: 12,
  mark: 16,
  priority: 20,
  src_ip4: 24,
  src_ip6: 28,
  src_port: 44,
  dst_port: 48,
  dst_ip4: 52,
  dst_ip6: 56,
  state: 72,
} as const;

/** struct __sk_buff fields cgroup_skb programs read. */
export const SkBuff = { len: 0, protocol: 16, data: 76, data_end: 80 } as const;

/** Context field names by offset, per context, for the disassembler. */
export const CTX_FIELDS: Record<"sock_addr" | "sock" | "skb", Record<number, string>> = {
  sock_addr: Object.fromEntries(Object.entries(SockAddr).map(([n, v]) => [v, n])),
  sock: Object.fromEntries(Object.entries(Sock).map(([n, v]) => [v, n])),
  skb: Object.fromEntries(Object.entries(SkBuff).map(([n, v]) => [v, n])),
};

/** Socket constants the programs compare against. */
export const Net = {
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  IPPROTO_ICMP: 1,
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_ICMPV6: 58,
} as const;
