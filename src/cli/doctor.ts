// sysjail doctor [--json] [feature ...]: what this host lacks for each feature, and the fix.
import { usageError } from "../errors.js";
import { diagnose, FEATURES, type FeatureReport } from "../doctor/checks.js";
import { gatherFacts } from "../doctor/facts.js";

/** sysjail doctor's usage text. */
export const DOCTOR_USAGE = `usage: sysjail doctor [--json] [feature ...]
  what this host lacks for each feature of sysjail, and the setting or package that fixes it;
  exit status 1 when a named feature (with none named: core) lacks something
  features: ${Object.keys(FEATURES).join(", ")}`;

/** Control characters made visible: paths and values come from the host, not from us. */
const clean = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** The human-readable report. */
export function formatDoctor(reports: FeatureReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.name}: ${r.ok ? "ok" : "MISSING"} (${r.what})`);
    for (const c of r.checks) {
      lines.push(`  ${c.ok ? "ok     " : "missing"} ${clean(c.name)}: ${clean(c.detail)}`);
      if (!c.ok && c.fix) lines.push(`          fix: ${clean(c.fix)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The doctor subcommand; returns the exit status. */
export function doctorMain(argv: string[]): number {
  let json = false;
  const named: string[] = [];
  for (const a of argv) {
    if (a === "--json") json = true;
    else if (a === "-h" || a === "--help") { process.stdout.write(`${DOCTOR_USAGE}\n`); return 0; }
    else if (a.startsWith("-")) throw usageError(`doctor: unknown option '${clean(a.slice(0, 40))}' (usage: sysjail doctor [--json] [feature ...])`);
    else if (!Object.prototype.hasOwnProperty.call(FEATURES, a)) throw usageError(`doctor: unknown feature '${clean(a.slice(0, 40))}' (features: ${Object.keys(FEATURES).join(", ")})`);
    else named.push(a);
  }
  const reports = diagnose(gatherFacts(), named);
  const failed = named.length ? reports.some((r) => !r.ok) : reports.some((r) => r.name === "core" && !r.ok);
  if (json) process.stdout.write(`${JSON.stringify({ ok: !failed, features: reports }, null, 2)}\n`);
  else process.stdout.write(formatDoctor(reports));
  return failed ? 1 : 0;
}
