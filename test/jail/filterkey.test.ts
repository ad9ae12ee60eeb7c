// The filter cache's exact key (src/jail/filter.ts exactKey): every input spelled out, so two
// policies share a cached program only when they are the same; anything else goes to the hash.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactKey } from "../../src/jail/filter.js";
import { defaultPolicy, type PolicyOptions } from "../../src/spec/types.js";

const SWITCHES = ["allowRawSockets", "allowAllDomains", "allowIpc", "allowChflags", "allowRlimit", "allowSetHostname", "allowSetuid", "allowNesting", "replaceDefault"] as const;

describe("filter cache: exact key", () => {
  it("differs for every switch set, cleared or left out, and for the architecture and compiler", () => {
    const base = defaultPolicy();
    const keys = new Set<string>();
    const add = (p: PolicyOptions, arch = "x64", c = "r4-x") => {
      const k = exactKey(p, arch, c);
      assert.ok(k !== undefined, JSON.stringify(p));
      assert.ok(!k.includes("/") && k.length < 240);
      keys.add(k);
    };
    add(base);
    for (const s of SWITCHES) {
      add({ ...base, [s]: true });
      add({ ...base, [s]: false });
      const { [s]: _, ...rest } = base as unknown as Record<string, unknown>;
      add(rest as unknown as PolicyOptions);
    }
    add(base, "arm64");
    add(base, "x6", "4r4-x"); // a length-prefixed tail: no shift of characters between parts
    add(base, "x64", "r5-x");
    // base set again with the same value as the default: one key (allowChflags false, say)
    assert.equal(exactKey({ ...base, allowChflags: false }, "x64", "r4-x"), exactKey(base, "x64", "r4-x"));
    assert.equal(exactKey({ ...base, pledge: undefined }, "x64", "r4-x"), exactKey(base, "x64", "r4-x"));
    // every other call added a key of its own
    assert.ok(keys.size >= 1 + SWITCHES.length + 3);
  });

  it("leaves policy files, pledges, unknown options and odd values to the hash", () => {
    const base = defaultPolicy();
    assert.equal(exactKey({ ...base, files: ["/p"] }, "x64", "c"), undefined);
    assert.equal(exactKey({ ...base, pledge: ["stdio"] }, "x64", "c"), undefined);
    assert.equal(exactKey({ ...base, other: true } as unknown as PolicyOptions, "x64", "c"), undefined);
    assert.equal(exactKey({ ...base, allowIpc: 1 } as unknown as PolicyOptions, "x64", "c"), undefined);
    assert.equal(exactKey(base, "x/64", "c"), undefined);
  });
});
