// Starts a jail's helper before its plan is made: the helper makes and maps the jail's namespaces,
// and its init builds the jail's root, from the prelude (planPrelude) while prepare() reserves the
// id and plans the rest.
import type { StdioOptions } from "node:child_process";
import { HelperRun } from "../helper/launch.js";
import type { FrontChannel } from "../helper/front.js";
import { hostFacts } from "../host/facts.js";
import { planFlags, planPrelude } from "../plan/planner.js";
import type { JailSpec } from "../spec/types.js";
import { releaseEphemeral } from "../ids/leases.js";
import { planSwitches, prepare, rootFacts, type Prepared, type PrepareOptions } from "./prepare.js";

/** prepare() with the helper already started from the prelude (or handed it through a native
 * front's channel); the helper is ended when preparing fails. Hand both to JailRun (its `early`
 * argument). */
export async function prepareWithHelper(spec: JailSpec, stdio: StdioOptions, opts: PrepareOptions, front?: FrontChannel): Promise<{ prep: Prepared; helper: HelperRun }> {
  // the prelude carries the init phase too: the helper's init builds the root while prepare()
  // runs, and prepare() plans from the same look at the root
  const root = rootFacts(spec, { dryRun: opts.dryRun, stateDir: opts.stateDir });
  let helper: HelperRun;
  try {
    const prelude = planPrelude(spec, hostFacts(), planFlags(spec, planSwitches(opts)), { ...root, devices: opts.devices });
    helper = new HelperRun("run", stdio, opts.detach ?? false, prelude, front);
  } catch (err) {
    releaseEphemeral(root.idChoice.file); // prepare() releases it from here on
    throw err;
  }
  try {
    return { prep: await prepare(spec, { ...opts, root }), helper };
  } catch (err) {
    helper.abandon();
    throw err;
  }
}
