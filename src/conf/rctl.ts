// rctl(8)-style rules (`memoryuse:deny=256m`) and limits.* values as raw Limits strings for the limits parser.
import type { Limits } from "../spec/types.js";
import { confError, type SourcePos } from "./errors.js";

/** A Limits field name. */
export type LimitKey = keyof Limits;

/** rctl resources sysjail maps, and how their amounts are written as limit values. */
const RESOURCES: Record<string, { key: LimitKey; unit: "size" | "count" | "seconds" | "percent" }> = {
  memoryuse: { key: "memory", unit: "size" },
  swapuse: { key: "swap", unit: "size" },
  maxproc: { key: "pids", unit: "count" },
  cputime: { key: "cpu", unit: "seconds" },
  wallclock: { key: "wall", unit: "seconds" },
  openfiles: { key: "openFiles", unit: "count" },
  pcpu: { key: "cores", unit: "percent" },
  shmsize: { key: "shmSize", unit: "size" },
};

/** Names of the rctl resources that are understood. */
export const RCTL_RESOURCES: readonly string[] = Object.keys(RESOURCES);

/**
 * Converts one rule `[jail:NAME:]resource:deny=amount[/jail]` into a Limits key and a raw value in
 * sysjail's limit syntax (256m -> "256M", cputime 10 -> "10s", pcpu 50 -> "0.5").
 */
export function rctlRule(rule: string, pos: SourcePos): { key: LimitKey; raw: string } {
  let parts = rule.trim().split(":");
  if (parts[0] === "jail") parts = parts.slice(2);
  if (parts.length !== 2) throw confError(pos, "an rctl rule is [jail:NAME:]resource:deny=amount", rule);
  const [resource, rest] = parts as [string, string];
  const res = RESOURCES[resource];
  if (!res) throw confError(pos, `rctl resource '${resource}' is not supported (use ${RCTL_RESOURCES.join(", ")})`, rule);
  const m = /^([a-z]+)=([0-9]+(?:\.[0-9]+)?)([kmgtpe]?)(?:\/(jail|process))?$/i.exec(rest);
  if (!m) throw confError(pos, `bad rctl action or amount '${rest}'`, rule);
  const [, action, num, suffix, per] = m as unknown as [string, string, string, string, string | undefined];
  if (action !== "deny") throw confError(pos, `rctl action '${action}' is not supported (only deny)`, rule);
  if (per === "process") throw confError(pos, "per-process rctl rules are not supported (only per jail)", rule);
  if (suffix && res.unit !== "size") throw confError(pos, `rctl resource '${resource}' takes a plain number`, rule);
  switch (res.unit) {
    case "size":
      return { key: res.key, raw: `${num}${suffix.toUpperCase()}` };
    case "count":
      return { key: res.key, raw: num };
    case "seconds":
      return { key: res.key, raw: `${num}s` };
    case "percent":
      return { key: res.key, raw: String(Number(num) / 100) };
  }
}
