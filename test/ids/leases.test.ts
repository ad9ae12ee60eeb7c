// The pool and its leases without jails: the pool from /etc/subuid lines, round-robin, block 0
// last, persistent and ephemeral claims never sharing a block, stale keys, exhaustion.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { blockBase, blockOfBase, blockOfUid, poolOf, type IdPool } from "../../src/ids/pool.js";
import { dropPersistentLease, ephemeralLease, leaseHolder, persistentLease, releaseEphemeral } from "../../src/ids/leases.js";
import { SysjailError } from "../../src/errors.js";

let dir: string;
const saved = process.env.SYSJAIL_IDS_DIR;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "sysjail-leases-"));
  process.env.SYSJAIL_IDS_DIR = dir;
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  if (saved === undefined) delete process.env.SYSJAIL_IDS_DIR;
  else process.env.SYSJAIL_IDS_DIR = saved;
});

const small: IdPool = { uidStart: 0x70000000, gidStart: 0x70000000, size: 65536, blocks: 4 };

test("the pool: the default, /etc/subuid and /etc/subgid lines, blocks and their bases", () => {
  assert.deepEqual(poolOf(), { uidStart: 0x70000000, gidStart: 0x70000000, size: 65536, blocks: 4096 });
  assert.deepEqual(poolOf([100000, 65536 * 3 + 5], [200000, 65536 * 2]), { uidStart: 100000, gidStart: 200000, size: 65536, blocks: 2 });
  assert.deepEqual(poolOf([100000, 1000]), { uidStart: 100000, gidStart: 100000, size: 1000, blocks: 1 });
  const p = poolOf();
  assert.equal(blockOfBase(p, 0x70000000 + 2 * 65536), 2);
  assert.equal(blockOfBase(p, 0x70000000 + 2 * 65536 + 1), undefined, "not a base");
  assert.equal(blockOfBase(p, 0), undefined, "host root is never a base");
  assert.equal(blockOfBase(p, 0x80000000), undefined, "past the pool");
  assert.equal(blockOfUid(p, 0x70000000 + 65536 + 7), 1);
  assert.deepEqual(blockBase(poolOf([100000, 65536 * 2], [300000, 65536 * 2]), 1), { uid: 165536, gid: 365536 });
});

test("round-robin over blocks 1.., block 0 last; a persistent lease holds; exhaustion is one clear error", () => {
  const a = persistentLease("name", "web", { pool: small });
  const b = ephemeralLease("x", { pool: small });
  const c = ephemeralLease("y", { pool: small });
  assert.deepEqual([a, b.block, c.block], [1, 2, 3]);
  assert.equal(persistentLease("name", "web", { pool: small }), 1, "found again");
  assert.equal(persistentLease("name", "web", { pool: small, peek: true }), 1);
  const d = ephemeralLease("z", { pool: small });
  assert.equal(d.block, 0, "block 0 comes last");
  assert.throws(() => ephemeralLease("full", { pool: small }), (e: unknown) => e instanceof SysjailError && /all 4 id ranges of the pool are leased/.test(e.message));
  releaseEphemeral(b.file);
  assert.equal(ephemeralLease("again", { pool: small }).block, 2, "a released block is taken again only when its turn comes");
  assert.match(leaseHolder(1) ?? "", /^name "web"$/);
  for (const f of [c.file, d.file, join(dir, "run", "2")]) releaseEphemeral(f);
  dropPersistentLease("name", "web", { pool: small });
  assert.equal(persistentLease("name", "web", { pool: small, peek: true }), undefined);
});

test("a persistent claim never takes a block an ephemeral jail holds, nor the reverse", () => {
  rmSync(join(dir, "next"), { force: true });
  const e = ephemeralLease("holder", { pool: small });
  writeFileSync(join(dir, "blocks", String(e.block + 1)), 'tree "/elsewhere"\n'); // the next one is leased for good
  const p = persistentLease("tree", "/srv/t", { pool: small });
  assert.ok(p !== e.block && p !== e.block + 1, `${p}`);
  releaseEphemeral(e.file);
  unlinkSync(join(dir, "blocks", String(e.block + 1)));
  dropPersistentLease("tree", "/srv/t", { pool: small });
});

test("a key whose block holds another key is stale: the name gets a block of its own", () => {
  const b = persistentLease("name", "db", { pool: small })!;
  writeFileSync(join(dir, "blocks", String(b)), 'name "other"\n'); // corrupt: the block says otherwise
  const again = persistentLease("name", "db", { pool: small })!;
  assert.notEqual(again, b);
  assert.equal(readFileSync(join(dir, "blocks", String(again)), "utf8"), 'name "db"\n');
  // a key pointing past the pool is ignored too
  rmSync(join(dir, "keys", "name-db"));
  symlinkSync("999999", join(dir, "keys", "name-db"));
  assert.notEqual(persistentLease("name", "db", { pool: small }), 999999);
  // releaseEphemeral removes nothing outside the ephemeral directory
  const outside = join(dir, "blocks", String(again));
  releaseEphemeral(outside);
  releaseEphemeral(join(dir, "run", "..", "blocks", String(again)));
  assert.equal(readFileSync(outside, "utf8"), 'name "db"\n');
});
