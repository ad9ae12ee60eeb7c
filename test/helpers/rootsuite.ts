// The frame of a jail test file that shares one jail root and the unprivileged identity: the
// core suite's hooks, then one root holding the probe and one 65534 identity (its own
// XDG_RUNTIME_DIR), made before the file's tests and removed after them, also when they fail.
import { after, before } from "node:test";
import { makeJailRoot, type JailRoot } from "./jailroot.js";
import { makeNobody, type Nobody } from "./nobody.js";
import { coreSuite, type CoreEnv } from "./suite.js";

export interface RootSuite {
  env: CoreEnv;
  /** The file's jail root (made with the probe at /probe). */
  root: JailRoot;
  /** The 65534 identity the file's rootless runs use. */
  nobody: Nobody;
}

/** Registers coreSuite() and the hooks that make and remove one jail root and one 65534 identity;
 * like coreSuite's env, the returned objects are filled in by the file's first before hook. */
export function rootSuite(): RootSuite {
  const env = coreSuite();
  const root = {} as JailRoot;
  const nobody = {} as Nobody;
  before(() => {
    Object.assign(root, makeJailRoot(env.probe));
    Object.assign(nobody, makeNobody());
  });
  after(() => {
    root.remove?.();
    nobody.remove?.();
  });
  return { env, root, nobody };
}
