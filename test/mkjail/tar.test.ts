// mkjail tar: and oci: the images users have; no device node and no host-root setuid file arrive.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { coreSuite, defer, makeTempDir, removeTree } from "../helpers/index.js";
import { blockOfBase, idPool } from "../../src/ids/pool.js";
import { entries, mkjail, names, oneLineError, show, sysjail } from "./helpers.js";

coreSuite();

function tarOf(src: string, out: string, gzip = false): void {
  const r = spawnSync("tar", [gzip ? "-czf" : "-cf", out, "--numeric-owner", "-C", src, "."], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

/** A small root: sh from the host (static enough through nano), a setuid file, a device node. */
function sampleRoot(base: string): string {
  const src = join(base, "src");
  assert.equal(mkjail(["nano:/bin/sh", src]).code, 0);
  writeFileSync(join(src, "etc", "from-tar"), "tar\n");
  writeFileSync(join(src, "suid"), "x");
  chmodSync(join(src, "suid"), 0o4755);
  spawnSync("chown", ["-h", "0:0", join(src, "suid")]);
  spawnSync("mknod", [join(src, "etc", "disk"), "b", "7", "0"]);
  symlinkSync("../../../../etc/shadow", join(src, "etc", "escape"));
  return src;
}

describe("mkjail tar", () => {
  it("unpacks a tarball; device nodes removed; setuid files owned by the jail's range; runs", (t) => {
    const base = makeTempDir("mkjail-tar-");
    defer(t, () => removeTree(base));
    const src = sampleRoot(base);
    assert.ok(lstatSync(join(src, "etc", "disk")).isBlockDevice());
    tarOf(src, join(base, "root.tar.gz"), true);
    const dir = join(base, "t");
    const r = mkjail([`tar:${join(base, "root.tar.gz")}`, dir]);
    assert.equal(r.code, 0, show(r));
    assert.equal(readFileSync(join(dir, "etc", "from-tar"), "utf8"), "tar\n");
    assert.equal(existsSync(join(dir, "etc", "disk")), false, "the device node is gone");
    const st = lstatSync(join(dir, "suid"));
    assert.equal(st.uid, lstatSync(dir).uid, "setuid file owned by the range's root (the tree's owner)");
    assert.notEqual(blockOfBase(idPool(), st.uid), undefined, `owned by a range base of the pool, not ${st.uid}`);
    assert.ok(lstatSync(join(dir, "etc", "escape")).isSymbolicLink());
    for (const e of entries(dir)) assert.notEqual(e.kind, "dev", e.path);
    const run = sysjail([dir, "tarj", "/bin/sh", "-c", "read x </etc/from-tar; echo $x"]);
    assert.equal(run.stdout, "tar\n", show(run));
  });

  it("a damaged tarball fails with one line and leaves nothing", (t) => {
    const base = makeTempDir("mkjail-tar-");
    defer(t, () => removeTree(base));
    writeFileSync(join(base, "bad.tar"), Buffer.alloc(4096, 7));
    const r = mkjail([`tar:${join(base, "bad.tar")}`, join(base, "t")]);
    assert.equal(oneLineError(r, [70]), undefined, show(r));
    assert.deepEqual(names(base), ["bad.tar"]);
  });
});

/** Writes a blob into an OCI layout; returns its descriptor. */
function blob(layout: string, data: Buffer, mediaType: string) {
  const hex = createHash("sha256").update(data).digest("hex");
  writeFileSync(join(layout, "blobs", "sha256", hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

function ociLayout(base: string, layers: string[], corrupt = false): string {
  const layout = join(base, "image");
  mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  const descs = layers.map((dir, i) => {
    const tarFile = join(base, `layer${i}.tar`);
    tarOf(dir, tarFile);
    return blob(layout, readFileSync(tarFile), "application/vnd.oci.image.layer.v1.tar");
  });
  const config = blob(layout, Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'), "application/vnd.oci.image.config.v1+json");
  const manifest = blob(layout, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers: descs })), "application/vnd.oci.image.manifest.v1+json");
  writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [manifest] }));
  if (corrupt) {
    const first = join(layout, "blobs", "sha256", descs[0]!.digest.slice(7));
    writeFileSync(first, Buffer.concat([readFileSync(first), Buffer.from("x")]));
  }
  return layout;
}

describe("mkjail oci", () => {
  it("applies the layers in order and honours whiteouts and opaque directories", (t) => {
    const base = makeTempDir("mkjail-oci-");
    defer(t, () => removeTree(base));
    const l0 = join(base, "l0");
    assert.equal(mkjail(["nano:/bin/sh", l0]).code, 0);
    mkdirSync(join(l0, "a")); writeFileSync(join(l0, "a", "gone"), "0"); writeFileSync(join(l0, "a", "kept"), "0");
    mkdirSync(join(l0, "c")); writeFileSync(join(l0, "c", "old"), "0");
    writeFileSync(join(l0, "over"), "0");
    const l1 = join(base, "l1");
    mkdirSync(join(l1, "a"), { recursive: true }); writeFileSync(join(l1, "a", ".wh.gone"), "");
    mkdirSync(join(l1, "c")); writeFileSync(join(l1, "c", ".wh..wh..opq"), ""); writeFileSync(join(l1, "c", "new"), "1");
    writeFileSync(join(l1, "over"), "1");
    const layout = ociLayout(base, [l0, l1]);
    const dir = join(base, "o");
    const r = mkjail([`oci:${layout}`, dir]);
    assert.equal(r.code, 0, show(r));
    assert.equal(existsSync(join(dir, "a", "gone")), false, "whiteout");
    assert.equal(readFileSync(join(dir, "a", "kept"), "utf8"), "0");
    assert.equal(existsSync(join(dir, "c", "old")), false, "opaque directory");
    assert.equal(readFileSync(join(dir, "c", "new"), "utf8"), "1");
    assert.equal(readFileSync(join(dir, "over"), "utf8"), "1");
    assert.equal(existsSync(join(dir, "a", ".wh.gone")) || existsSync(join(dir, "c", ".wh..wh..opq")), false, "no whiteout file left");
    const run = sysjail([dir, "ocij", "/bin/sh", "-c", "read x </over; echo $x"]);
    assert.equal(run.stdout, "1\n", show(run));
  });

  it("a layer that does not match its digest: one line, exit 65, nothing left", (t) => {
    const base = makeTempDir("mkjail-oci-");
    defer(t, () => removeTree(base));
    const l0 = join(base, "l0");
    mkdirSync(join(l0, "etc"), { recursive: true });
    writeFileSync(join(l0, "etc", "x"), "x");
    const layout = ociLayout(base, [l0], true);
    const before = names(base);
    const r = mkjail([`oci:${layout}`, join(base, "o")]);
    assert.equal(oneLineError(r, [65]), undefined, show(r));
    assert.deepEqual(names(base), before);
  });

  it("a directory that is no image layout: exit 65 or 66, nothing left", (t) => {
    const base = makeTempDir("mkjail-oci-");
    defer(t, () => removeTree(base));
    mkdirSync(join(base, "empty"));
    const r = mkjail([`oci:${join(base, "empty")}`, join(base, "o")]);
    assert.equal(oneLineError(r, [65, 66]), undefined, show(r));
    assert.deepEqual(names(base), ["empty"]);
    renameSync(join(base, "empty"), join(base, "empty2"));
  });
});
