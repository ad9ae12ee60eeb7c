// devfs.rules(5): [name=N] rulesets of devfs(8) rules, evaluated per /dev entry, with Linux's built-in ruleset 4.
import { confError, confErrorNoPos, type SourcePos } from "./errors.js";
import { fnmatch, hasGlobMeta } from "./glob.js";

/** devfs(8) `type` condition values. */
export type DevType = "disk" | "mem" | "tape" | "tty";

/** One rule action. */
export type DevfsAction =
  | { kind: "hide" }
  | { kind: "unhide" }
  | { kind: "user" | "group"; value: string; pos: SourcePos }
  | { kind: "mode"; mode: number }
  | { kind: "include"; ref: string; pos: SourcePos };

/** One rule: conditions (ANDed; none = every node) and actions. */
export interface DevfsRule {
  num: number;
  path?: string;
  type?: DevType;
  actions: DevfsAction[];
  pos: SourcePos;
}

/** A numbered, named ruleset. */
export interface DevfsRuleset {
  number: number;
  name: string;
  rules: DevfsRule[];
  pos: SourcePos;
}

/** A parsed devfs.rules file. */
export interface DevfsRules {
  file: string;
  sets: DevfsRuleset[];
}

/** What a ruleset decides for one /dev entry. */
export interface DevfsVerdict {
  visible: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** A /dev entry to expose in the jail, with the attributes rules gave it. */
export interface DevfsNode extends DevfsVerdict {
  name: string;
}

/** Hooks for evaluation: device types for `type` rules, user and group names for `user`/`group`. */
export interface DevfsEvalOptions {
  typeOf?: (name: string) => DevType | undefined;
  user?: (name: string) => number | undefined;
  group?: (name: string) => number | undefined;
}

/** Default location of the administrator's rules. */
export const DEFAULT_DEVFS_RULES = "/etc/sysjail/devfs.rules";

/** Entries that stay hidden unless an unhide rule names them exactly (no wildcard). */
export const PROTECTED_DEVICES: readonly string[] = ["mem", "kmem", "port"];

/** sysjail's built-in rulesets: FreeBSD's numbers and names with Linux device names. */
export const BUILTIN_DEVFS_RULES = `# sysjail built-in devfs rulesets (Linux device names)
[devfsrules_hide_all=1]
add hide

[devfsrules_unhide_basic=2]
add path null unhide
add path zero unhide
add path full unhide
add path random unhide
add path urandom unhide

[devfsrules_unhide_login=3]
add path tty unhide
add path ptmx unhide
add path pts unhide
add path 'pts/*' unhide
add path fd unhide
add path stdin unhide
add path stdout unhide
add path stderr unhide

[devfsrules_jail=4]
add include $devfsrules_hide_all
add include $devfsrules_unhide_basic
add include $devfsrules_unhide_login

[devfsrules_jail_vnet=5]
add include $devfsrules_jail
add path net unhide
add path net/tun unhide
`;

interface Word {
  text: string;
  col: number;
}

/** Splits a rule line into shell-like words ('...' and "..." quoting, '#' comments). */
function words(line: string, file: string, lineNo: number): Word[] {
  const out: Word[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line.charAt(i);
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") break;
    const col = i + 1;
    let text = "";
    while (i < line.length && !/[ \t\r#]/.test(line.charAt(i))) {
      const d = line.charAt(i);
      if (d === "'" || d === '"') {
        const end = line.indexOf(d, i + 1);
        if (end < 0) throw confError({ file, line: lineNo, col: i + 1 }, "unterminated quote", line.slice(i));
        text += line.slice(i + 1, end);
        i = end + 1;
      } else if (d === "\\" && i + 1 < line.length) {
        text += line.charAt(i + 1);
        i += 2;
      } else {
        text += d;
        i++;
      }
    }
    out.push({ text, col });
  }
  return out;
}

/** Parses devfs.rules text: `[name=N]` headers, then `[add] [num] [path P] [type T] action...` lines. */
export function parseDevfsRules(text: string, file: string): DevfsRules {
  const sets: DevfsRuleset[] = [];
  let cur: DevfsRuleset | undefined;
  text.split("\n").forEach((line, idx) => {
    const lineNo = idx + 1;
    const at = (col: number): SourcePos => ({ file, line: lineNo, col });
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    if (trimmed.startsWith("[")) {
      const col = line.indexOf("[") + 1;
      const m = /^\[\s*([A-Za-z0-9_]+)\s*=\s*([0-9]+)\s*\]\s*(#.*)?$/.exec(trimmed);
      if (!m) throw confError(at(col), "bad ruleset header, expected [name=number]", trimmed);
      const number = Number(m[2]);
      if (number === 0) throw confError(at(col), "ruleset 0 is always empty and cannot be defined", trimmed);
      if (number > 65535) throw confError(at(col), "ruleset numbers go up to 65535", trimmed);
      const dup = sets.find((s) => s.number === number || s.name === m[1]);
      if (dup) throw confError(at(col), `ruleset ${dup.name}=${dup.number} is already defined`, trimmed);
      cur = { number, name: m[1]!, rules: [], pos: at(col) };
      sets.push(cur);
      return;
    }
    const w = words(line, file, lineNo);
    if (w.length === 0) return;
    if (!cur) throw confError(at(w[0]!.col), "rule outside of a [name=number] section", w[0]!.text);
    cur.rules.push(parseRule(w, cur, at));
  });
  for (const s of sets) s.rules.sort((a, b) => a.num - b.num);
  return { file, sets };
}

function parseRule(w: Word[], set: DevfsRuleset, at: (col: number) => SourcePos): DevfsRule {
  let k = 0;
  if (w[k]?.text === "add") k++;
  const first = w[k] ?? w[0]!;
  const pos = at(first.col);
  const last = set.rules.reduce((m, r) => Math.max(m, r.num), 0);
  let num = (Math.floor(last / 100) + 1) * 100;
  if (w[k] && /^[0-9]+$/.test(w[k]!.text)) {
    num = Number(w[k]!.text);
    if (num === 0 || set.rules.some((r) => r.num === num)) throw confError(at(w[k]!.col), `rule number ${num} is ${num === 0 ? "reserved" : "already used"}`, w[k]!.text);
    k++;
  }
  const rule: DevfsRule = { num, actions: [], pos };
  const arg = (kw: Word): Word => {
    const a = w[++k];
    if (!a) throw confError(at(kw.col + kw.text.length), `'${kw.text}' needs an argument`, kw.text);
    return a;
  };
  for (; k < w.length; k++) {
    const kw = w[k]!;
    const isCond = kw.text === "path" || kw.text === "type";
    if (isCond && rule.actions.length) throw confError(at(kw.col), "conditions must come before actions", kw.text);
    switch (kw.text) {
      case "path":
        rule.path = arg(kw).text;
        break;
      case "type": {
        const a = arg(kw);
        if (!["disk", "mem", "tape", "tty"].includes(a.text)) throw confError(at(a.col), "type must be disk, mem, tape or tty", a.text);
        rule.type = a.text as DevType;
        break;
      }
      case "hide":
      case "unhide":
        rule.actions.push({ kind: kw.text });
        break;
      case "user":
      case "group": {
        const a = arg(kw);
        rule.actions.push({ kind: kw.text, value: a.text, pos: at(a.col) });
        break;
      }
      case "mode": {
        const a = arg(kw);
        if (!/^[0-7]{1,4}$/.test(a.text)) throw confError(at(a.col), "mode must be an octal number", a.text);
        rule.actions.push({ kind: "mode", mode: parseInt(a.text, 8) });
        break;
      }
      case "include": {
        const a = arg(kw);
        if (!/^(\$[A-Za-z0-9_]+|[0-9]+)$/.test(a.text)) throw confError(at(a.col), "include needs $rulesetname or a ruleset number", a.text);
        rule.actions.push({ kind: "include", ref: a.text, pos: at(a.col) });
        break;
      }
      default:
        throw confError(at(kw.col), `unknown devfs rule keyword '${kw.text}'`, kw.text);
    }
  }
  if (!rule.actions.length) throw confError(pos, "a rule needs an action (hide, unhide, user, group, mode or include)", w.map((x) => x.text).join(" "));
  return rule;
}

let builtin: DevfsRules | undefined;

/** The built-in rulesets, parsed. */
export function builtinDevfsRules(): DevfsRules {
  builtin ??= parseDevfsRules(BUILTIN_DEVFS_RULES, "(built-in devfs.rules)");
  return builtin;
}

/** Built-in rulesets overlaid with the administrator's: a set of the same number replaces the built-in one. */
export function mergeDevfsRules(user?: DevfsRules): DevfsRuleset[] {
  const own = user?.sets ?? [];
  const base = builtinDevfsRules().sets.filter((b) => !own.some((u) => u.number === b.number || u.name === b.name));
  return [...own, ...base];
}

const DEFAULT_USERS: Record<string, number> = { root: 0 };
const DEFAULT_GROUPS: Record<string, number> = { root: 0, wheel: 0, tty: 5 };

/** A guess at a Linux /dev entry's devfs type, for `type` conditions. */
export function linuxDevType(name: string): DevType | undefined {
  if (PROTECTED_DEVICES.includes(name)) return "mem";
  if (/^(tty.*|pts\/.+|ptmx|console)$/.test(name)) return "tty";
  if (/^n?st[0-9]+[lma]?$/.test(name)) return "tape";
  if (/^((sd|hd|vd|xvd)[a-z]+[0-9]*|nvme[0-9]+(n[0-9]+(p[0-9]+)?)?|mmcblk[0-9]+(p[0-9]+|boot[0-9]+|rpmb)?|loop[0-9]+|loop-control|dm-[0-9]+|md[0-9]+|sr[0-9]+|nbd[0-9]+|zram[0-9]+|ram[0-9]+|bcache[0-9]+|rbd[0-9]+|mapper\/.+|disk\/.+)$/.test(name)) return "disk";
  return undefined;
}

/**
 * Compiles ruleset RULESET (0 = no rules) from the built-in rules and RULES (text of a devfs.rules file,
 * or a parsed one) into a function giving each /dev entry's verdict. mem, kmem and port stay hidden
 * unless an unhide rule names them without a wildcard.
 */
export function evalDevfsRuleset(
  ruleset: number,
  rules?: string | DevfsRules,
  opts: DevfsEvalOptions = {},
): (devName: string) => DevfsVerdict {
  const parsed = typeof rules === "string" ? parseDevfsRules(rules, DEFAULT_DEVFS_RULES) : rules;
  const sets = mergeDevfsRules(parsed);
  const userOf = (v: string) => (/^[0-9]+$/.test(v) ? Number(v) : (opts.user?.(v) ?? DEFAULT_USERS[v]));
  const groupOf = (v: string) => (/^[0-9]+$/.test(v) ? Number(v) : (opts.group?.(v) ?? DEFAULT_GROUPS[v]));
  const typeOf = opts.typeOf ?? linuxDevType;
  const findSet = (ref: string, pos: SourcePos): DevfsRuleset | undefined => {
    const s = ref.startsWith("$") ? sets.find((x) => x.name === ref.slice(1)) : sets.find((x) => x.number === Number(ref));
    if (!s && ref !== "0") throw confError(pos, `devfs ruleset '${ref.replace(/^\$/, "")}' is not defined`, ref);
    return s;
  };
  // Check includes (existence, loops) and ids once, up front.
  const check = (s: DevfsRuleset, stack: DevfsRuleset[]): void => {
    for (const r of s.rules) {
      for (const a of r.actions) {
        if (a.kind === "include") {
          const t = findSet(a.ref, a.pos);
          if (!t) continue;
          if (stack.includes(t)) throw confError(a.pos, `devfs include loop back to ruleset '${t.name}'`, a.ref);
          check(t, [...stack, t]);
        } else if (a.kind === "user" && userOf(a.value) === undefined) {
          throw confError(a.pos, `unknown user '${a.value}'`, a.value);
        } else if (a.kind === "group" && groupOf(a.value) === undefined) {
          throw confError(a.pos, `unknown group '${a.value}'`, a.value);
        }
      }
    }
  };
  const top = ruleset === 0 ? undefined : sets.find((s) => s.number === ruleset);
  if (ruleset !== 0 && !top) throw confErrorNoPos(`devfs ruleset ${ruleset} is not defined`, parsed?.file);
  if (top) check(top, [top]);

  return (devName: string): DevfsVerdict => {
    const name = devName.replace(/^\/dev\//, "").replace(/^\.?\/+/, "");
    const st: DevfsVerdict & { named: boolean } = { visible: true, named: false };
    const apply = (s: DevfsRuleset): void => {
      for (const r of s.rules) {
        if (r.path !== undefined && !fnmatch(r.path, name, true)) continue;
        if (r.type !== undefined && typeOf(name) !== r.type) continue;
        for (const a of r.actions) {
          if (a.kind === "hide") {
            st.visible = false;
            st.named = false;
          } else if (a.kind === "unhide") {
            st.visible = true;
            st.named = r.path !== undefined && !hasGlobMeta(r.path) && r.path.replace(/\\(.)/g, "$1") === name;
          } else if (a.kind === "user") st.uid = userOf(a.value);
          else if (a.kind === "group") st.gid = groupOf(a.value);
          else if (a.kind === "mode") st.mode = a.mode;
          else if (a.kind === "include") {
            const t = findSet(a.ref, a.pos);
            if (t) apply(t);
          }
        }
      }
    };
    if (top) apply(top);
    const visible = st.visible && (!PROTECTED_DEVICES.includes(name) || st.named);
    const out: DevfsVerdict = { visible };
    if (st.mode !== undefined) out.mode = st.mode;
    if (st.uid !== undefined) out.uid = st.uid;
    if (st.gid !== undefined) out.gid = st.gid;
    return out;
  };
}

/** Given the host's /dev entries ("null", "pts/0", "dri/card0"), the ones ruleset RULESET exposes. */
export function devfsNodes(
  hostEntries: readonly string[],
  ruleset: number,
  rules?: string | DevfsRules,
  opts: DevfsEvalOptions = {},
): DevfsNode[] {
  const verdict = evalDevfsRuleset(ruleset, rules, opts);
  const out: DevfsNode[] = [];
  for (const e of hostEntries) {
    const v = verdict(e);
    if (v.visible) out.push({ name: e.replace(/^\/dev\//, "").replace(/^\.?\/+/, ""), ...v });
  }
  return out;
}
