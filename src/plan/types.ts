// The plan: a list of typed setup operations the C helper performs in a fixed order.
// The op codes are the ones in native/src/proto.h; keep both in step and bump PROTOCOL on change.

/** Protocol version spoken with the C helper (native/src/proto.h SJ_PROTO). */
export const PROTOCOL = 9;

/** Operation codes, as in native/src/proto.h. */
export const OpCode = {
  clone: 1,
  cgroupMkdir: 2,
  cgroupWrite: 3,
  cgroupAttach: 4,
  cgroupStat: 5,
  stateFile: 6,
  wallLimit: 7,
  cpuLimit: 8,
  setgroups: 9,
  uidMap: 10,
  gidMap: 11,
  idmapRoot: 12,
  root: 13,
  staging: 14,
  mountFs: 15,
  bind: 16,
  rebind: 17,
  mask: 18,
  mkdir: 19,
  mkfile: 20,
  symlink: 21,
  pivot: 22,
  hostname: 23,
  domainname: 24,
  loUp: 25,
  rlimit: 26,
  cwd: 27,
  groups: 28,
  gid: 29,
  uid: 30,
  caps: 31,
  nnp: 32,
  seccomp: 33,
  env: 34,
  exec: 35,
  enter: 36,
  umask: 37,
  bpfMap: 38,
  bpfProg: 39,
  vnetLink: 40,
  hostAddr: 41,
  hostRoute: 42,
  netHelper: 43,
  jailAddr: 44,
  jailRoute: 45,
  bpfUpdate: 46,
  stdio: 47,
  landlockScope: 48,
  nsSocket: 49,
  enterVia: 50,
  notify: 51,
  dup2: 52,
  startGate: 53,
  usernsMax: 54,
  console: 55,
  hook: 56,
  nsJoin: 57,
  sysctl: 58,
  oomScoreAdj: 59, // reserved: unused (sysjail-oci writes the score itself, src/oci/oom.ts)
  cgroupJoin: 60,
  procNs: 62,
  devNode: 63,
  mountPoints: 64,
  cgroupInto: 65,
  nsSysctl: 67,
  stdioOwner: 70,
  lookup: 71,
} as const;

/** A plan op's name. */
export type OpName = keyof typeof OpCode;

/** Mount flag letters understood by the helper (proto.h MF_*). */
export const MountFlag = {
  ro: "r",
  strict: "s",
  recursive: "R",
  nosuid: "u",
  nodev: "d",
  noexec: "x",
  file: "f",
  create: "c",
  optional: "o",
  quiet: "q",
  strictatime: "T",
  noatime: "N",
  nodiratime: "D",
  shared: "S",
  slave: "L",
  private: "P",
  unbindable: "U",
  /** the propagation for the mount's whole tree (rshared, rslave, rprivate, runbindable) */
  propagationTree: "A",
  /** sysjail-oci: the tree idmapped onto the jail's user namespace; failing the step when it cannot be */
  idmap: "I",
  /** the same, or the tree as it is with a warning (step "idmap") when the kernel cannot */
  idmapTry: "i",
} as const;

/** One setup operation: its name and its arguments (strings, or bytes for blobs). */
export interface PlanOp {
  op: OpName;
  args: (string | Uint8Array)[];
  /** Why this step is there, for --dry-run and -dd traces. */
  note?: string;
}

/** Header flags (proto.h SJ_F_*). */
export const PlanFlag = { debug: 1, persist: 2, killAll: 4, detach: 8, prelude: 16, oci: 32 } as const;

/** A whole plan: what the helper runs (`run` starts a jail, `enter` joins one). */
export interface Plan {
  mode: "run" | "enter";
  flags: number;
  ops: PlanOp[];
}

/** Convenience constructor for a plan op. */
export function op(name: OpName, args: (string | number | bigint | Uint8Array)[] = [], note?: string): PlanOp {
  const out: PlanOp = { op: name, args: args.map((a) => (a instanceof Uint8Array ? a : String(a))) };
  if (note) out.note = note;
  return out;
}
