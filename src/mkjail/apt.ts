// The host's configured Debian mirror, read from apt's sources (one-line and deb822 formats), so
// no mirror's host name lives in sysjail: sources.list, sources.list.d/*.list and *.sources.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One apt source: URIs, suites and components of "deb" lines. */
export interface AptSource { uris: string[]; suites: string[]; components: string[] }

function oneLine(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ uris: [m[1]!], suites: [m[2]!], components: m[3]!.split(/\s+/).filter((c) => c) });
  }
  return out;
}

function deb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const f: Record<string, string> = {};
    let key = "";
    for (const raw of stanza.split("\n")) {
      if (raw.startsWith("#")) continue;
      if (/^\s/.test(raw) && key) { f[key] += ` ${raw.trim()}`; continue; }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) { key = m[1]!.toLowerCase(); f[key] = m[2]!; }
    }
    if (!(f.types ?? "").split(/\s+/).includes("deb") || /^(no|false)$/i.test(f.enabled ?? "yes")) continue;
    const words = (k: string) => (f[k] ?? "").split(/\s+/).filter((w) => w);
    out.push({ uris: words("uris"), suites: words("suites"), components: words("components") });
  }
  return out;
}

/** Every "deb" source apt is configured with (under ROOT, for tests). */
export function aptSources(root = "/"): AptSource[] {
  const out: AptSource[] = [];
  const read = (p: string) => { try { return readFileSync(p, "utf8"); } catch { return undefined; } };
  const main = read(join(root, "etc/apt/sources.list"));
  if (main) out.push(...oneLine(main));
  let names: string[] = [];
  try { names = readdirSync(join(root, "etc/apt/sources.list.d")).sort(); } catch { /* none */ }
  for (const n of names) {
    const t = read(join(root, "etc/apt/sources.list.d", n));
    if (t === undefined) continue;
    if (n.endsWith(".list")) out.push(...oneLine(t));
    else if (n.endsWith(".sources")) out.push(...deb822(t));
  }
  return out;
}

/** The host's release codename (os-release VERSION_CODENAME). */
export function hostCodename(root = "/"): string | undefined {
  for (const f of ["etc/os-release", "usr/lib/os-release"]) {
    try {
      const m = /^VERSION_CODENAME="?([a-z0-9]+)"?$/m.exec(readFileSync(join(root, f), "utf8"));
      if (m) return m[1];
    } catch { /* next */ }
  }
  return undefined;
}

/** `deb URI SUITE COMPONENTS` lines for SUITE: the host's Debian sources with the host's codename
 * (and its -updates, -security suites) replaced by SUITE; MIRROR (--mirror) instead when given. */
export function mirrorLines(suite: string, mirror?: string, root = "/"): string[] {
  if (mirror) return [`deb ${mirror} ${suite} main`];
  const host = hostCodename(root);
  const lines: string[] = [];
  for (const s of aptSources(root)) {
    for (const su of s.suites) {
      let target: string | undefined;
      if (su === host || su === suite) target = suite;
      else if (host && su.startsWith(`${host}-`)) target = suite + su.slice(host.length);
      else if (su.startsWith(`${suite}-`)) target = su;
      if (!target) continue;
      const comps = s.components.length ? s.components.join(" ") : "main";
      for (const u of s.uris) if (/^(https?|file):\/\/\S+$/.test(u)) lines.push(`deb ${u} ${target} ${comps}`);
    }
  }
  return [...new Set(lines)];
}
