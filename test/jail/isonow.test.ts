// isoNow formats like Date#toISOString (the registry's startedAt) without the time-zone load.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isoNow } from "../../src/jail/run.js";

describe("isoNow", () => {
  it("matches toISOString across the year, month and millisecond edges", () => {
    for (const t of [0, 951782400000, 1700000000123, 1798761599999, 4102444800007, Date.now()]) {
      const d = new Date(t);
      assert.equal(isoNow(d), d.toISOString());
    }
  });
});
