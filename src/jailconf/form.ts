// Routes a jail(8) command line to the module that handles its form, without loading any of them.

/** Short options of jail(8) that take a value (the next argument when not attached). */
const WITH_VALUE = "fJuUnspej";

/** Which code handles a command line: the legacy positional form, src/manage (-R, -m), or
 * src/jailconf (-c, -cm, -rc, -r, -e); argv is what to hand it (-m drops `-f file`: FreeBSD reads
 * no configuration for a modification given as parameters). */
export function jailForm(argv: readonly string[]): { form: "legacy" | "manage" | "jailconf"; argv: string[] } {
  if (argv[0] === "--reap-when-empty") return { form: "jailconf", argv: [...argv] };
  const letters = new Set<string>();
  const withoutF: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--" || !a.startsWith("-") || a.length < 2 || a.startsWith("--")) break;
    let kept = a;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      letters.add(c);
      if (!WITH_VALUE.includes(c)) continue;
      const attached = j < a.length - 1;
      if (c === "f") kept = j > 1 ? a.slice(0, j) : "";
      if (kept) withoutF.push(kept);
      if (!attached) {
        i++;
        if (c !== "f" && i < argv.length) withoutF.push(argv[i]!);
      }
      kept = "";
      break;
    }
    if (kept) withoutF.push(kept);
  }
  withoutF.push(...argv.slice(i));
  if (letters.has("c") || letters.has("e")) return { form: "jailconf", argv: [...argv] };
  if (letters.has("h") && !letters.has("m") && !letters.has("R")) return { form: "jailconf", argv: [...argv] };
  if (letters.has("R")) return { form: "manage", argv: [...argv] };
  if (letters.has("r")) return { form: "jailconf", argv: [...argv] };
  // -m of the configuration form (`jail -f conf -m web`): the configuration's parameters
  const operands = argv.slice(i);
  if (letters.has("m") && operands.length <= 1 && !operands.some((a) => a.includes("="))) return { form: "jailconf", argv: [...argv] };
  if (letters.has("m")) return { form: "manage", argv: withoutF };
  return { form: "legacy", argv: [...argv] };
}
