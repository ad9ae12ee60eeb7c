// A node:test reporter (scripts/test.mjs adds it beside TAP): one block per failed test, written
// to its destination file, which test.mjs prints after the run, so that the end of a long CI log
// names what failed (a TAP "not ok" can sit thousands of lines above the totals).
import { relative } from "node:path";

const oneLine = (s) => String(s).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);

/** Yields a block for each failed test that has no failed subtests of its own (the leaf). */
export default async function* failures(source) {
  const parents = new Map(); // per file (files run side by side): names by nesting level
  for await (const ev of source) {
    if (ev.type !== "test:fail" && ev.type !== "test:pass" && ev.type !== "test:start") continue;
    const d = ev.data;
    if (!parents.has(d.file)) parents.set(d.file, []);
    const names = parents.get(d.file);
    if (ev.type === "test:start") { names[d.nesting] = d.name; names.length = d.nesting + 1; continue; }
    if (ev.type !== "test:fail") continue;
    const err = d.details?.error;
    // a suite fails when a test in it failed: that test has its own block
    if (err?.failureType === "subtestsFailed") continue;
    const path = [...names.slice(0, d.nesting), d.name].join(" > ");
    const cause = err?.cause ?? err;
    // the message, then the first three frames
    const all = String(cause?.stack ?? cause?.message ?? cause).split("\n");
    const first = all.findIndex((l) => /^\s+at /.test(l));
    const msg = (first < 0 ? all : all.slice(0, first + 3)).slice(0, 40).map(oneLine);
    yield `not ok: ${d.file ? relative(process.cwd(), d.file) : "?"}: ${oneLine(path)}\n${msg.map((l) => `    ${l}`).join("\n")}\n`;
  }
}
