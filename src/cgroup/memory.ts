// The memory controller: a hard cap, no swap unless asked, OOM kills confined to the jail, peak and OOM stats.
import type { Limits } from "../spec/types.js";
import { emptyPart, stat, write, type ControllerPart } from "./controller.js";

/** Which optional v1 memory files the kernel has (swap accounting may be compiled or booted off). */
export interface MemoryV1Features {
  /** memory.memsw.limit_in_bytes: memory+swap can be capped. */
  memsw: boolean;
  /** memory.swappiness exists. */
  swappiness: boolean;
  /** memory.oom_control exists (its oom_kill counter needs 4.13+). */
  oomControl: boolean;
}

/** Which optional v2 memory files exist. */
export interface MemoryV2Features {
  /** memory.swap.max: swap can be capped (CONFIG_SWAP and swap accounting on). */
  swapMax: boolean;
}

/** The v1 memory plan in `dir`: memory.limit_in_bytes, memsw = memory + swap (0 by default), swappiness 0, OOM killer on. */
export function memoryV1(dir: string, limits: Limits, f: MemoryV1Features): ControllerPart {
  const part = emptyPart();
  if (limits.memory !== undefined) {
    // the memory limit first: memsw may never be below it
    write(part, dir, "memory.limit_in_bytes", limits.memory, "memory limit");
    if (f.memsw) {
      write(part, dir, "memory.memsw.limit_in_bytes", limits.memory + (limits.swap ?? 0), "memory+swap limit");
    } else if (limits.swap !== undefined) {
      part.unenforced.push("swap");
      part.notes.push("swap: the kernel has no swap accounting (memory.memsw.* missing; boot with swapaccount=1)");
    }
    if (limits.swap === undefined && f.swappiness) write(part, dir, "memory.swappiness", 0, "no swapping");
    if (f.oomControl) write(part, dir, "memory.oom_control", 0, "OOM killer on, inside the jail");
  } else if (limits.swap !== undefined) {
    part.unenforced.push("swap");
    part.notes.push("swap: cgroup v1 caps swap only together with a memory limit");
  }
  stat(part, dir, "memory.max_usage_in_bytes", "memPeak");
  stat(part, dir, "memory.failcnt", "memFailcnt");
  if (f.oomControl) stat(part, dir, "memory.oom_control", "memOomControl");
  return part;
}

/** The v2 memory plan in `dir`: memory.max, memory.swap.max (0 unless swap is given), peak and events. */
export function memoryV2(dir: string, limits: Limits, f: MemoryV2Features): ControllerPart {
  const part = emptyPart();
  if (limits.memory !== undefined) write(part, dir, "memory.max", limits.memory, "memory limit");
  if (f.swapMax) {
    if (limits.memory !== undefined || limits.swap !== undefined) {
      write(part, dir, "memory.swap.max", limits.swap ?? 0, "swap limit");
    }
  } else if (limits.swap !== undefined) {
    part.unenforced.push("swap");
    part.notes.push("swap: memory.swap.max is missing (no swap accounting)");
  }
  stat(part, dir, "memory.peak", "memPeak");
  stat(part, dir, "memory.events", "memEvents");
  return part;
}

/** Memory in use now, from a v1 or v2 memory cgroup file's text. */
export const MEMORY_CURRENT = { v1: "memory.usage_in_bytes", v2: "memory.current" } as const;
