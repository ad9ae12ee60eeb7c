// The skeleton every made tree starts from: mount points and a minimal /etc.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Minimal /etc files: root and nobody, files-only name services, localhost. */
export const MINIMAL_ETC: Record<string, string> = {
  passwd: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
  group: "root:x:0:\nnogroup:x:65534:\n",
  "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nservices: files\nprotocols: files\n",
  hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
};

/** Makes proc, dev, sys, tmp (1777), etc, root (0700) and the minimal /etc files. */
export function skeleton(tree: string, etc = true): void {
  for (const d of ["proc", "dev", "sys", "etc"]) mkdirSync(join(tree, d), { recursive: true, mode: 0o755 });
  mkdirSync(join(tree, "tmp"), { recursive: true });
  chmodSync(join(tree, "tmp"), 0o1777);
  mkdirSync(join(tree, "root"), { recursive: true, mode: 0o700 });
  if (etc) for (const [name, text] of Object.entries(MINIMAL_ETC)) writeFileSync(join(tree, "etc", name), text, { mode: 0o644 });
}
