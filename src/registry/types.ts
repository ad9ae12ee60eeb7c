// The registry entry of one jail, as jls, sjls, jexec and the library read it.
import type { JailSpec } from "../spec/types.js";

/** A running jail's record (one JSON file per jail under the state directory). */
export interface JailEntry {
  jid: number;
  name: string;
  path: string;
  hostname: string;
  ip4: string[];
  ip6: string[];
  /** Host pid of the jail's init (its pid 1) and that process's start time (/proc/PID/stat field 22). */
  initPid: number;
  initStart: number;
  /** Host pid of the helper that monitors the jail, and its start time. */
  monitorPid: number;
  monitorStart?: number;
  /** The jail's namespaces (CLONE_NEW* bits of its clone), recorded at start: jexec joins exactly these. */
  namespaces?: number;
  /** Host uid that started the jail. */
  owner: number;
  command: string[];
  /** ISO time the jail started. */
  startedAt: string;
  persist: boolean;
  /** How jail ids map onto host ids. */
  idmap: { uidMap: string; gidMap: string; rootless: boolean };
  /** Root's jails: the host id range (first uid and gid, size), why the jail has it
   * (share, owned, name, tree, ephemeral) and the ephemeral lease's file. */
  ids?: { uid: number; gid: number; count: number; lease: string; file?: string | undefined };
  /** Cgroup directories of the jail, by controller. */
  cgroups: Record<string, string>;
  /** The validated spec the jail was started from (jexec rebuilds the same policy from it). */
  spec: JailSpec;
  /** Lifecycle parameters kept for jail -r (exec.prestop, exec.stop, ...). */
  lifecycle?: Record<string, unknown>;
}
