// What building the C helper shares between the local build (build-native.mjs), the package's
// prebuilt helpers (pack-native.mjs) and npm's install step (install-native.mjs).
import { readFileSync, readdirSync, renameSync, rmSync, symlinkSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's root directory. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SRC_DIR = join(ROOT, "native", "src");
export const BUILD_DIR = join(ROOT, "native", "build");
export const PREBUILT_DIR = join(ROOT, "native", "prebuilt");

/** The commands of package.json `bin`, each a front of the helper (native/build/NAME): adding a
 * tool to `bin` is all these scripts need (the helper's own list is in native/src/main.c). */
export function tools() {
  const bin = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).bin ?? {};
  return Object.keys(bin).filter((t) => bin[t] === `native/build/${t}`);
}

/** The helper's C sources, relative to ROOT, sorted (the link order is part of a reproducible build). */
export function sources() {
  return readdirSync(SRC_DIR).filter((f) => f.endsWith(".c")).sort().map((f) => `native/src/${f}`);
}

/** Compiler flags every build of the helper gets. */
export const BASE_FLAGS = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration",
  "-D_FORTIFY_SOURCE=2", "-fstack-protector-strong", "-fPIE", "-Wl,-z,relro,-z,now"];

/** The idle OCI monitor's successor (native/reaper/reaper.c -> sysjail-reaper, next to the
 * helper): no C library (a static glibc start-up alone costs ~650 kB of an idle container's
 * memory), its own system-call stubs for x86_64 and aarch64, a plain static executable whose
 * headers, code and constants share one page (-z noseparate-code, no unwind tables). */
export const REAPER_SRC = "native/reaper/reaper.c";
export const REAPER_FLAGS = ["-Os", "-std=gnu11", "-Wall", "-Wextra", "-nostdlib", "-ffreestanding", "-fno-builtin",
  "-static", "-fno-pie", "-no-pie", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables", "-Wl,-z,noexecstack",
  "-Wl,--build-id=none", "-Wl,-z,noseparate-code"];

/** Node's process.arch -> the prebuilt helper's directory (the kernel's name for the machine). */
export const ARCHES = { x64: "x86_64", arm64: "aarch64" };

/** Points native/build/TOOL at TARGET (relative to native/build) for every tool, each link
 * replaced by rename: a command started meanwhile finds the old link or the new one. */
export function linkTools(target) {
  for (const tool of tools()) {
    const link = join(BUILD_DIR, tool);
    let cur;
    try { cur = readlinkSync(link); } catch { /* none yet, or a file */ }
    if (cur === target) continue;
    const tmp = `${link}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(target, tmp);
    renameSync(tmp, link);
  }
}
