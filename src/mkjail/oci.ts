// oci:DIR: an OCI image layout. index.json -> (an image index ->) a manifest -> its layers, each
// checked against its sha256 digest, applied in order; whiteouts (.wh.NAME removes NAME of the
// layers below, .wh..wh..opq empties its directory) are honoured before the layer is unpacked.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, lstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join, posix } from "node:path";
import { Exit, SysjailError } from "../errors.js";
import { removeTree, runTool } from "./partial.js";
import { tarExtractArgs } from "./tar.js";
import type { Progress } from "./types.js";

interface Descriptor { mediaType?: string; digest: string; size?: number; platform?: { architecture?: string; os?: string } }

const JSON_CAP = 4 << 20;
const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", riscv64: "riscv64", s390x: "s390x", ppc64: "ppc64le" };

function bad(dir: string, why: string): SysjailError {
  return new SysjailError(`mkjail: oci: ${JSON.stringify(dir)}: ${why}`, { code: "EBADIMAGE", phase: "usage", exitCode: Exit.dataErr });
}

/** The blob file of a digest, checked to be sha256 with a well-formed hex part. */
function blobPath(dir: string, digest: unknown): string {
  if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) throw bad(dir, `bad digest ${JSON.stringify(String(digest).slice(0, 80))} (sha256 only)`);
  return join(dir, "blobs", "sha256", digest.slice(7));
}

/** Reads a file (regular, no link at the end) whole, hashing it; refuses one over CAP when CAP is given. */
function hashFile(file: string, cap?: number): { hex: string; data?: Buffer } {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new Error(`${file} is missing or not a regular file`);
  if (cap !== undefined && st.size > cap) throw new Error(`${file} is larger than ${cap} bytes`);
  const fd = openSync(file, "r");
  const h = createHash("sha256");
  const chunks: Buffer[] = [];
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      if (cap !== undefined) chunks.push(Buffer.from(buf.subarray(0, n)));
    }
  } finally {
    closeSync(fd);
  }
  return { hex: h.digest("hex"), ...(cap !== undefined ? { data: Buffer.concat(chunks) } : {}) };
}

function readBlobJson(dir: string, digest: string): Record<string, unknown> {
  const file = blobPath(dir, digest);
  const { hex, data } = hashFile(file, JSON_CAP);
  if (`sha256:${hex}` !== digest) throw bad(dir, `blob ${digest} does not match its digest`);
  return JSON.parse(data!.toString("utf8")) as Record<string, unknown>;
}

/** The image's layer descriptors, in order (checked before the tree is made). */
export function ociLayers(dir: string): Descriptor[] {
  let index: Record<string, unknown>;
  try {
    const { data } = hashFile(join(dir, "index.json"), JSON_CAP);
    index = JSON.parse(data!.toString("utf8")) as Record<string, unknown>;
  } catch (err) {
    if (lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
      throw new SysjailError(`mkjail: oci: no image layout ${JSON.stringify(dir)}`, { code: "ENOENT", phase: "usage", exitCode: Exit.noInput });
    }
    throw bad(dir, `index.json: ${(err as Error).message.split("\n")[0]}`);
  }
  try {
    let list = index.manifests as Descriptor[] | undefined;
    for (let depth = 0; depth < 4; depth++) {
      if (!Array.isArray(list) || list.length === 0) throw bad(dir, "no manifests");
      const arch = ARCH[process.arch] ?? process.arch;
      const pick = list.find((m) => !m.platform || (m.platform.architecture === arch && (m.platform.os ?? "linux") === "linux")) ?? (list.length === 1 ? list[0] : undefined);
      if (!pick) throw bad(dir, `no manifest for linux/${arch}`);
      const doc = readBlobJson(dir, pick.digest);
      if (Array.isArray(doc.layers)) {
        const layers = doc.layers as Descriptor[];
        for (const l of layers) blobPath(dir, l.digest);
        return layers;
      }
      list = doc.manifests as Descriptor[] | undefined; // an image index: one level down
    }
    throw bad(dir, "image indexes nested too deep");
  } catch (err) {
    if (err instanceof SysjailError) throw err;
    throw bad(dir, (err as Error).message.split("\n")[0]!);
  }
}

/** A member name as a relative path in the tree, or undefined when it could lead out of it. */
function memberPath(name: string): string | undefined {
  const n = posix.normalize(name.replace(/^\/+/, ""));
  if (n === "." || n === "" || n.startsWith("../") || n === ".." || n.split("/").includes("..")) return undefined;
  return n.replace(/\/$/, "");
}

/** Is every directory from TREE down to REL's parent a real directory (no link to leave by)? */
function realParents(tree: string, rel: string): boolean {
  const parts = rel.split("/").slice(0, -1);
  let cur = tree;
  for (const c of parts) {
    cur = join(cur, c);
    const st = lstatSync(cur, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return false;
  }
  return true;
}

/** Applies a layer's whiteouts to TREE (the layers below it). */
function applyWhiteouts(tree: string, members: string[]): void {
  for (const m of members) {
    const rel = memberPath(m);
    if (!rel) continue;
    const base = posix.basename(rel);
    if (!base.startsWith(".wh.")) continue;
    const parent = posix.dirname(rel);
    const parentPath = parent === "." ? tree : join(tree, parent);
    if (parent !== "." && !realParents(tree, `${parent}/x`)) continue;
    if (base === ".wh..wh..opq") {
      const st = lstatSync(parentPath, { throwIfNoEntry: false });
      if (st?.isDirectory()) for (const name of readdirSync(parentPath)) removeTree(join(parentPath, name));
      continue;
    }
    const victim = base.slice(4);
    if (victim === "" || victim === "." || victim === "..") continue;
    removeTree(join(parentPath, victim));
  }
}

/** Fills TREE with the image at DIR. */
export async function buildOci(tree: string, dir: string, layers: Descriptor[], progress: Progress): Promise<void> {
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    const file = blobPath(dir, l.digest);
    progress.step(`layer ${i + 1}/${layers.length} ${l.digest.slice(7, 19)}`, Math.round((i * 100) / layers.length));
    const { hex } = hashFile(file);
    if (`sha256:${hex}` !== l.digest) throw bad(dir, `layer ${l.digest} does not match its digest`);
    const list = execFileSync("tar", ["-t", "-f", file], { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "pipe"] });
    applyWhiteouts(tree, list.split("\n").filter((x) => x !== ""));
    await runTool("tar", tarExtractArgs(file, tree, ["--exclude=.wh.*"]), { what: `tar (layer ${i + 1})`, onLine: (x) => progress.log(x) });
  }
}
