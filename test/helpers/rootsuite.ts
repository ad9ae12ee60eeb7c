// The frame of a jail test file whose tests share one jail root (and, for rootless tests, one
// unprivileged identity): the core suite's hooks, then a root holding the probe and a 65534
// identity with its own XDG_RUNTIME_DIR, made before the file's tests and removed after them,
// also when they fail.
import { after, before } from "node:test";
import { makeJailRoot, type JailRoot, type JailRootOptions } from "./jailroot.js";
import { makeNobody, type Nobody } from "./nobody.js";
import { coreSuite, type CoreEnv } from "./suite.js";

export interface JailRootSuite {
  env: CoreEnv;
  /** The file's jail root (made with the probe at /probe). */
  root: JailRoot;
}

export interface JailRootNobodySuite extends JailRootSuite {
  /** The 65534 identity the file's rootless runs use. */
  nobody: Nobody;
}

/** Registers coreSuite() and the hooks that make (with OPTS) and remove one jail root for the file;
 * like coreSuite's env, the returned root is filled in by the file's first before hook. */
export function jailRootSuite(opts?: JailRootOptions): JailRootSuite {
  const env = coreSuite();
  const root = {} as JailRoot;
  before(() => {
    Object.assign(root, makeJailRoot(env.probe, opts));
  });
  after(() => {
    root.remove?.();
  });
  return { env, root };
}

/** jailRootSuite() plus one 65534 identity for the file, made after the root and removed after it. */
export function jailRootNobodySuite(): JailRootNobodySuite {
  const s = jailRootSuite();
  const nobody = {} as Nobody;
  before(() => {
    Object.assign(nobody, makeNobody());
  });
  after(() => {
    nobody.remove?.();
  });
  return { ...s, nobody };
}
