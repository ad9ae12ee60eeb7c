// Tells jail(8)'s management forms (-r, -R, -m) from the others, without loading them.

/** Which form a jail command line asks for: a management one (-r, -R, -m), or undefined. */
export function manageForm(argv: string[]): "remove" | "modify" | undefined {
  let form: "remove" | "modify" | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--" || !a.startsWith("-") || a.length < 2 || a.startsWith("--")) break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if ("uUjfJe".includes(c)) { if (j === a.length - 1) i++; break; } // an option's value follows
      if (c === "r" || c === "R") form ??= "remove";
      if (c === "m") form ??= "modify";
    }
  }
  return form;
}
