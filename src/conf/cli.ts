// The jail(8) command-line forms: `param=value ... [command=argv ...]` and the old `path hostname ip command`.
import { isIPv6 } from "node:net";
import { confError, type SourcePos } from "./errors.js";
import { lookupParam } from "./params.js";

/** One parameter from the command line (or one statement's worth of values). */
export interface ParamArg {
  name: string;
  /** `=` replaces, `+=` appends (a sysjail extension), `none` is a valueless boolean/store. */
  op: "=" | "+=" | "none";
  values: string[];
  pos: SourcePos;
  /** The argument as given. */
  raw: string;
}

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;

function argPos(index: number): SourcePos {
  return { file: "command line", line: 1, col: 1, arg: index + 1 };
}

/** Parses `param=value` arguments; `command=...` (or `command`) takes the rest of argv as its argv. */
export function parseParamArgs(argv: readonly string[]): ParamArg[] {
  const out: ParamArg[] = [];
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const pos = argPos(i);
    if (raw === "command" || raw.startsWith("command=")) {
      const values = [...(raw === "command" ? [] : [raw.slice(8)]), ...argv.slice(i + 1)];
      if (values.length === 0 || values[0] === "") throw confError(pos, "command needs a program to run", raw);
      out.push({ name: "command", op: "=", values, pos, raw });
      break;
    }
    const eq = raw.indexOf("=");
    let name: string;
    let op: ParamArg["op"] = "none";
    let value: string | undefined;
    if (eq < 0) {
      name = raw;
    } else if (eq > 0 && raw[eq - 1] === "+") {
      name = raw.slice(0, eq - 1);
      op = "+=";
      value = raw.slice(eq + 1);
    } else {
      name = raw.slice(0, eq);
      op = "=";
      value = raw.slice(eq + 1);
    }
    if (!NAME_RE.test(name)) throw confError(pos, name === "" ? "missing parameter name" : "invalid parameter name", raw);
    let values: string[] = [];
    if (value !== undefined) {
      const ref = lookupParam(name);
      const split = ref?.type === "param" && ref.info.splitComma === true;
      values = split ? value.split(",").filter((v) => v !== "") : [value];
    }
    out.push({ name, op, values, pos, raw });
  }
  return out;
}

/** The backward-compatible form `path hostname ip[,ip...] command ...` as parameters ("-" or "" = no address). */
export function parseLegacyArgs(argv: readonly string[]): ParamArg[] {
  if (argv.length < 4) {
    const pos = argPos(Math.max(0, argv.length - 1));
    throw confError(pos, "expected: path hostname ip[,ip...] command ...", argv.join(" ") || "EOF");
  }
  const [path, hostname, ips] = argv as [string, string, string];
  const out: ParamArg[] = [
    { name: "path", op: "=", values: [path], pos: argPos(0), raw: path },
    { name: "host.hostname", op: "=", values: [hostname], pos: argPos(1), raw: hostname },
  ];
  const addrs = ips === "-" ? [] : ips.split(",").filter((a) => a !== "");
  const v4 = addrs.filter((a) => !isIPv6(a.replace(/^[^|]*\|/, "").replace(/\/.*$/, "")));
  const v6 = addrs.filter((a) => !v4.includes(a));
  if (v4.length) out.push({ name: "ip4.addr", op: "=", values: v4, pos: argPos(2), raw: ips });
  if (v6.length) out.push({ name: "ip6.addr", op: "=", values: v6, pos: argPos(2), raw: ips });
  out.push({ name: "command", op: "=", values: argv.slice(3), pos: argPos(3), raw: argv[3]! });
  return out;
}

/** The inverse of parseParamArgs: parameters as jail(8) arguments (false booleans as `noNAME`, command last). */
export function formatParamArgs(params: Readonly<Record<string, string | string[] | boolean>>): string[] {
  const out: string[] = [];
  let command: string[] | undefined;
  for (const [name, v] of Object.entries(params)) {
    if (name === "command" && Array.isArray(v)) command = v;
    else if (v === true) out.push(name);
    else if (v === false) out.push(name.replace(/([^.]*)$/, "no$1"));
    else if (typeof v === "string") out.push(`${name}=${v}`);
    else {
      const ref = lookupParam(name);
      if (ref?.type === "param" && ref.info.splitComma && v.length && !v.some((x) => x.includes(","))) out.push(`${name}=${v.join(",")}`);
      else if (v.length === 0) out.push(`${name}=`);
      else for (const x of v) out.push(`${name}=${x}`);
    }
  }
  if (command?.length) out.push(`command=${command[0]}`, ...command.slice(1));
  return out;
}
