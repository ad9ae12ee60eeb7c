// Shell-style pattern matching (fnmatch) and a small file glob, for .include and devfs path rules.
import { readdirSync, statSync } from "node:fs";
import { posix } from "node:path";

/** True when a pattern has *, ? or [ (unescaped). */
export function hasGlobMeta(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "*" || c === "?" || c === "[") return true;
  }
  return false;
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** Compiles a glob pattern to a RegExp; with `pathname`, wildcards do not match '/'. */
export function globToRegExp(pattern: string, pathname: boolean): RegExp {
  const any = pathname ? "[^/]" : "[\\s\\S]";
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charAt(i);
    if (c === "\\" && i + 1 < pattern.length) {
      re += escapeRe(pattern.charAt(++i));
    } else if (c === "*") {
      re += `${any}*`;
    } else if (c === "?") {
      re += any;
    } else if (c === "[") {
      const close = pattern.indexOf("]", i + (pattern[i + 1] === "!" || pattern[i + 1] === "^" ? 3 : 2));
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let neg = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        neg = true;
        body = body.slice(1);
      }
      let cls = "";
      for (let k = 0; k < body.length; k++) {
        const b = body.charAt(k);
        if (b === "-" && k > 0 && k < body.length - 1) cls += "-";
        else cls += b === "\\" || b === "]" || b === "[" || b === "^" || b === "-" ? `\\${b}` : b;
      }
      re += neg ? `[^${pathname ? "/" : ""}${cls}]` : `[${cls}]`;
      i = close;
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(`${re}$`);
}

/** fnmatch(3): does NAME match PATTERN (FNM_PATHNAME when `pathname`)? */
export function fnmatch(pattern: string, name: string, pathname = false): boolean {
  return globToRegExp(pattern, pathname).test(name);
}

/** Expands a file glob on the local filesystem: sorted matches; dot files only for dot patterns. */
export function fsGlob(pattern: string): string[] {
  const absolute = pattern.startsWith("/");
  const parts = pattern.split("/").filter((p) => p !== "");
  let bases = [absolute ? "/" : "."];
  for (const part of parts) {
    const next: string[] = [];
    for (const base of bases) {
      if (!hasGlobMeta(part)) {
        const p = posix.join(base, part.replace(/\\(.)/g, "$1"));
        try {
          statSync(p);
          next.push(p);
        } catch {
          /* no such entry */
        }
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      const re = globToRegExp(part, true);
      for (const n of names.sort()) {
        if (n.startsWith(".") && !part.startsWith(".")) continue;
        if (re.test(n)) next.push(posix.join(base, n));
      }
    }
    bases = next;
  }
  return absolute ? bases : bases.map((b) => posix.normalize(b));
}
