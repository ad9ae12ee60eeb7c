// What the running kernel offers of Landlock: its ABI version, looked up once per process.
import { existsSync, readFileSync } from "node:fs";

/** The active LSMs, in securityfs. */
const LSM_LIST = "/sys/kernel/security/lsm";

/** The kernel's Landlock ABI as far as it can be known without a system call. */
export interface LandlockFacts {
  /** Highest ABI the kernel offers (0: no Landlock). */
  abi: number;
  /** True when the list of active LSMs (securityfs) confirmed Landlock is enabled; false when the
   * ABI comes from the kernel release alone (securityfs not mounted or not readable). */
  sure: boolean;
}

/** First Linux release of each Landlock ABI (Documentation/userspace-api/landlock.rst). */
const ABI_SINCE: readonly [number, number, number][] = [
  [7, 6, 15], [6, 6, 12], [5, 6, 10], [4, 6, 7], [3, 6, 2], [2, 5, 19], [1, 5, 13],
];

/** The Landlock ABI of a kernel release ("6.18.44-..."), 0 before 5.13 or when unreadable. */
export function abiOfRelease(release: string): number {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return 0;
  const major = Number(m[1]), minor = Number(m[2]);
  for (const [abi, ma, mi] of ABI_SINCE) if (major > ma || (major === ma && minor >= mi)) return abi;
  return 0;
}

let cached: LandlockFacts | undefined;

/** The running kernel's Landlock facts: the release gives the ABI; the active LSM list, when
 * readable, says whether Landlock is enabled at all. The helper re-checks by the system call:
 * a domain the plan requires and the kernel refuses fails the jail's start. */
export function landlockFacts(): LandlockFacts {
  if (cached) return cached;
  let release = "";
  try {
    release = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    /* no /proc: unknown */
  }
  const abi = abiOfRelease(release);
  // securityfs not mounted (a VM, a container): known without an exception, cold in every start
  if (!existsSync(LSM_LIST)) return (cached = { abi, sure: false });
  try {
    const lsm = readFileSync(LSM_LIST, "utf8").split(",").map((s) => s.trim());
    cached = { abi: lsm.includes("landlock") ? abi : 0, sure: true };
  } catch {
    cached = { abi, sure: false };
  }
  return cached;
}
