// Test-only fault injection (test/faults): SYSJAIL_TEST_FAULT lists points, "+"-separated; the
// helper stops dead at the first one if it names a step of its start table (native/src/helper.h),
// and this process stops dead at any Node-side point it names (`caller`: the helper was lost;
// `create:STEP`, `stop:STEP`: after a step of jail -c's create or jail -r's stop table; `started`:
// right after the jail was recorded), and a write it names fails as on a full disk (`enospc:reserve`,
// `enospc:entry`: the registry's reservation and entry; faultWrite); `fail:OP` is the helper's
// (its host-side write of plan op OP fails with ENOSPC, native/src/helper.h), `slow:POINT` too
// (it sleeps 300 ms at POINT: `enter-exit`, the entering helper after its exit report). Honoured
// only in a checkout: an installed package has no test/ directory, and its helper is built with
// -DSJ_RELEASE (scripts/build-native.mjs, scripts/pack-native.mjs), so there the variable does nothing.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { codeDir } from "../helper/locate.js";

function named(point: string): boolean {
  const v = process.env.SYSJAIL_TEST_FAULT;
  if (v === undefined || !v.split("+").includes(point)) return false;
  // build/src/jail or build/bin: build/test (tsc's tests) or the checkout's test/ is two levels up
  return existsSync(join(codeDir(), "..", "..", "test")) || existsSync(join(codeDir(), "..", "test"));
}

/** Stops this process dead (SIGKILL) when SYSJAIL_TEST_FAULT names POINT (in a checkout only). */
export function faultPoint(point: string): void {
  if (named(point)) process.kill(process.pid, "SIGKILL");
}

/** Throws ENOSPC, as a write to a full disk does, when SYSJAIL_TEST_FAULT names `enospc:WHAT`. */
export function faultWrite(what: string): void {
  if (named(`enospc:${what}`)) throw Object.assign(new Error(`ENOSPC: no space left on device (SYSJAIL_TEST_FAULT)`), { code: "ENOSPC" });
}
