// sjtest [-t test]... [--json] [-k] [-l]: sysjail's own self-test. It starts one jail per test
// (with itself or sjprobe as the attacker inside) and reports pass or fail per test with a
// reason. Exit 0 only when every applicable test passed; 1 otherwise; 64 for a usage error.
import { usageError } from "../errors.js";
import { Ctx } from "./context.js";
import { escapeText } from "./escape.js";
import { insideMain } from "./inside.js";
import { addressTests } from "./addresses.js";
import { confinementTests } from "./confinement.js";
import { issue17Tests } from "./issue17.js";
import { policyTests } from "./policy.js";
import type { Outcome, SjTest } from "./types.js";

const USAGE = `usage: sjtest [-t test]... [--json] [-k] [-l]
  Runs one jail per test, with an attacker inside, and reports pass or fail per test.
  -t  run only this test (repeatable; -l lists them)   -k  keep going after a failure
  --json  {"tests":[{"name","pass","reason","ms"}],"passed":N,"failed":N}
  Exit status: 0 when every test passed, 1 when one failed, 64 for a usage error.`;

/** Every test, in the order they are reported. */
export function allTests(): SjTest[] {
  return [...confinementTests(), ...addressTests(), ...policyTests(), ...issue17Tests()];
}

/** One reported test. */
interface Row { name: string; pass: boolean; reason: string; ms: number }

/** Parsed command line. */
interface Args { tests: string[]; json: boolean; keepGoing: boolean; list: boolean; help: boolean }

function parse(argv: string[]): Args {
  const a: Args = { tests: [], json: false, keepGoing: false, list: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    if (v === "-t") {
      const t = argv[++i];
      if (t === undefined) throw usageError("sjtest: -t needs a test name (sjtest -l lists them)");
      a.tests.push(t);
    } else if (v.startsWith("-t") && v.length > 2) a.tests.push(v.slice(2));
    else if (v === "--json") a.json = true;
    else if (v === "-k") a.keepGoing = true;
    else if (v === "-l" || v === "--list") a.list = true;
    else if (v === "-h" || v === "--help") a.help = true;
    else throw usageError(`sjtest: unknown argument '${escapeText(v)}' (allowed: -t test, --json, -k, -l, -h)`);
  }
  return a;
}

const why = (root: boolean): string => (root ? "not for this machine or kernel" : "they need root, or not for this machine or kernel");
const applicable = (t: SjTest, root: boolean): boolean => (!t.root || root) && (!t.arch || t.arch === process.arch);

/** Runs TESTS, CONCURRENCY at a time; without KEEPGOING no test starts after a failure. */
async function runAll(ctx: Ctx, tests: SjTest[], keepGoing: boolean, report: (r: Row) => void): Promise<Row[]> {
  const rows: Row[] = [];
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < tests.length) {
      const t = tests[next++]!;
      const t0 = performance.now();
      let o: Outcome;
      try {
        o = await t.run(ctx);
      } catch (e) {
        o = { pass: false, reason: `sjtest error: ${(e as Error).message ?? String(e)}` };
      }
      const row = { name: t.name, pass: o.pass, reason: o.reason, ms: Math.round(performance.now() - t0) };
      rows.push(row);
      report(row);
      if (!o.pass && !keepGoing) stop = true;
    }
  };
  await Promise.all(Array.from({ length: 3 }, worker));
  const order = new Map(tests.map((t, i) => [t.name, i]));
  return rows.sort((x, y) => order.get(x.name)! - order.get(y.name)!);
}

/** sjtest's main: the exit status. */
export async function sjtestMain(argv: string[]): Promise<number> {
  if (argv[0] === "--inside") {
    if (!argv[1]) throw usageError("sjtest: --inside needs a check name");
    return insideMain(argv[1], argv.slice(2));
  }
  const a = parse(argv);
  if (a.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const all = allTests();
  if (a.list) { process.stdout.write(all.map((t) => `${t.name}\n`).join("")); return 0; }
  const known = new Set(all.map((t) => t.name));
  for (const t of a.tests) {
    if (!known.has(t) && !known.has(`${t} (root)`)) throw usageError(`sjtest: unknown test '${escapeText(t)}' (sjtest -l lists them)`);
  }
  const root = process.getuid?.() === 0;
  const chosen = a.tests.length ? all.filter((t) => a.tests.includes(t.name) || a.tests.includes(t.name.replace(/ \(root\)$/, ""))) : all;
  const ctx = new Ctx();
  const tests: SjTest[] = [];
  const notRun: SjTest[] = [];
  for (const t of chosen) {
    const ok = applicable(t, root) && (!t.applies || (await t.applies(ctx).catch(() => false)));
    (ok ? tests : notRun).push(t);
  }
  if (tests.length === 0 && notRun.length) {
    await ctx.close();
    throw usageError(`sjtest: ${notRun.map((t) => t.name).join(", ")}: not applicable here (${why(root)}); nothing run`, { exitCode: 1 });
  }
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    void ctx.close().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let rows: Row[];
  try {
    rows = await runAll(ctx, tests, a.keepGoing, (r) => {
      if (!a.json) process.stdout.write(`${r.pass ? "pass" : "FAIL"}  ${escapeText(r.name)}  (${r.ms} ms)  ${escapeText(r.reason)}\n`);
    });
  } finally {
    await ctx.close();
  }
  const passed = rows.filter((r) => r.pass).length;
  const failed = rows.length - passed;
  if (a.json) {
    process.stdout.write(`${JSON.stringify({ tests: rows, passed, failed })}\n`);
  } else {
    const skipped = tests.length - rows.length;
    process.stdout.write(`sjtest: ${passed} passed, ${failed} failed` +
      (skipped ? `, ${skipped} not started after the first failure (-k runs them)` : "") +
      (notRun.length ? `, ${notRun.length} not applicable (${why(root)}: ${notRun.map((t) => t.name).join(", ")})` : "") + "\n");
  }
  return failed === 0 && rows.length === tests.length ? 0 : 1;
}
