// A strict getopt: short flags (bundled), flags with values, long options; stops at the first operand.
import { usageError } from "../errors.js";

/** What a tool accepts. */
export interface OptSpec {
  /** Short flags without a value, e.g. "bdhilv". */
  flags: string;
  /** Short options that take a value, e.g. "juU". */
  withValue: string;
  /** Long options without a value. */
  longFlags?: string[];
  /** Long options that take a value (--name=value or --name value). */
  longWithValue?: string[];
  /** Long options refused with a message (not yet supported, and so on). */
  refused?: Record<string, string>;
}

/** One parsed option, in command-line order. */
export interface Opt { name: string; value?: string }

/** Parses argv; returns options in order and the operands from the first non-option on. */
export function getopt(tool: string, argv: string[], spec: OptSpec): { opts: Opt[]; rest: string[] } {
  const opts: Opt[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") { i++; break; }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (spec.refused && name in spec.refused) throw usageError(`${tool}: --${name}: ${spec.refused[name]}`);
      if (spec.longFlags?.includes(name)) {
        if (eq >= 0) throw usageError(`${tool}: --${name} takes no value`);
        opts.push({ name });
        continue;
      }
      if (spec.longWithValue?.includes(name)) {
        const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined) throw usageError(`${tool}: --${name} needs a value`);
        opts.push({ name, value });
        continue;
      }
      throw usageError(`${tool}: unknown option '--${name}' (see ${tool} -h)`);
    }
    if (a.length < 2 || !a.startsWith("-")) break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if (spec.refused && c in spec.refused) throw usageError(`${tool}: -${c}: ${spec.refused[c]}`);
      if (spec.flags.includes(c)) { opts.push({ name: c }); continue; }
      if (spec.withValue.includes(c)) {
        const value = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (value === undefined) throw usageError(`${tool}: -${c} needs a value`);
        opts.push({ name: c, value });
        break;
      }
      throw usageError(`${tool}: unknown option '-${c}' (see ${tool} -h)`);
    }
  }
  return { opts, rest: argv.slice(i) };
}
