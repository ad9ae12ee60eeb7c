// Tests: docs/JAIL_CONF.md stays in step with the parameter table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PARAMS, RCTL_RESOURCES, builtinDevfsRules } from "../../src/conf/index.js";

function docs(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json")) && dirname(d) !== d) d = dirname(d);
  if (!existsSync(join(d, "docs", "JAIL_CONF.md"))) d = process.cwd();
  return readFileSync(join(d, "docs", "JAIL_CONF.md"), "utf8");
}

test("docs/JAIL_CONF.md documents every parameter of the table", () => {
  const text = docs();
  const missing = PARAMS.filter((p) => !text.includes(`| \`${p.name}\` |`)).map((p) => p.name);
  assert.deepEqual(missing, []);
});

test("docs/JAIL_CONF.md lists every rctl resource and built-in ruleset", () => {
  const text = docs();
  for (const r of RCTL_RESOURCES) assert.ok(text.includes(`| \`${r}\` |`), r);
  for (const s of builtinDevfsRules().sets) assert.ok(text.includes(`| ${s.number} | \`${s.name}\` |`), s.name);
});
