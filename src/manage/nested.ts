// Hierarchical jails as the host sees them: a parent jail's children, read from the registry its
// root keeps (src/jail/nest.ts) and named PARENT.CHILD, as FreeBSD's jls names them.
//
// Security: the registry is written by the parent's root, so every file is hostile. Files are read
// without following symlinks, size-capped, and checked field by field; a child is shown only when
// the kernel confirms it: a pid namespace init whose pid, seen from the parent's pid namespace, is
// the recorded one and whose parent process lives in the parent's pid namespace (so it cannot name
// a process of another jail or of the host). Nothing of the entry that the host would act on is
// kept: no hooks (they would run on the host), no cgroups, and the policy jexec applies from the
// host is the parent's (the child's own entry is the parent's to write), without nesting.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { listDir } from "../cgroup/fsutil.js";
import { nestDir } from "../jail/nestpath.js";
import { isAlive } from "../registry/store.js";
import type { JailEntry } from "../registry/types.js";
import { checkEntry } from "../registry/validate.js";
import { readNoFollow } from "./entryfile.js";
import type { JailRef } from "./locate.js";
import { allPids, isNamespaceInit, jailNamespace, nsPids, parentOf, pidNamespace } from "./proc.js";

/** The host pid of the init whose pid in the parent's pid namespace is INNER, or undefined. */
function hostPidOf(inner: number, parentInit: number): number | undefined {
  const ns = jailNamespace(parentInit);
  const depth = (nsPids(parentInit)?.length ?? 0) - 1;
  if (!ns || depth < 1) return undefined;
  for (const p of allPids()) {
    const levels = nsPids(p);
    if (!levels || levels.length !== depth + 2 || levels[depth] !== inner || levels[depth + 1] !== 1) continue;
    const pp = parentOf(p);
    if (pp !== undefined && (pp === parentInit || pidNamespace(pp) === ns)) return p;
  }
  return undefined;
}

/** The running children of a parent jail (none unless it has children.max), named PARENT.CHILD. */
export function nestedChildren(parent: JailRef): JailRef[] {
  const pe = parent.entry;
  if (!pe.spec.policy?.allowNesting) return [];
  const dir = nestDir(parent.dir, pe.jid);
  let owner: number;
  try {
    const st = lstatSync(dir);
    const jails = lstatSync(join(dir, "jails"));
    if (!st.isDirectory() || !jails.isDirectory() || jails.uid !== st.uid) return [];
    owner = st.uid;
  } catch {
    return [];
  }
  const out: JailRef[] = [];
  for (const f of listDir(join(dir, "jails"))) {
    if (!/^\d{1,10}\.json$/.test(f)) continue;
    const text = readNoFollow(join(dir, "jails", f), 1 << 20);
    if (text === undefined) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      continue;
    }
    const c = checkEntry(raw, Number(f.slice(0, -5)), 0);
    if (!c.ok) continue;
    const hostPid = hostPidOf(c.entry.initPid, pe.initPid);
    if (hostPid === undefined) continue;
    const entry: JailEntry = {
      ...c.entry,
      name: `${pe.name}.${c.entry.name}`,
      initPid: hostPid,
      monitorPid: 0,
      owner,
      cgroups: {},
      lifecycle: { stopTimeout: 0 },
      spec: { ...c.entry.spec, policy: { ...pe.spec.policy, allowNesting: false }, mounts: [] },
    };
    delete entry.monitorStart;
    if (!isAlive(entry) || !isNamespaceInit(hostPid)) continue;
    out.push({ entry, dir, dirOwner: owner, own: false });
  }
  return out;
}
