// The NODE_* variables the native front holds away from sysjail's own Node (native/src/front.c
// hold_node_env) and puts back for the jail (src/helper/front.ts restoreHeld); unit tests of the
// TypeScript half. test/helper/front.test.ts runs both halves together.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ownNodeEnv, restoreHeld } from "../../src/helper/front.js";

test("restoreHeld puts back the listed NODE_* variables and removes the held names", () => {
  const env: NodeJS.ProcessEnv = {
    SYSJAIL_HELD: "NODE_OPTIONS=NODE_EXTRA_CA_CERTS",
    SYSJAIL_HELD_NODE_OPTIONS: "--require x.js",
    SYSJAIL_HELD_NODE_EXTRA_CA_CERTS: "/etc/ca.pem",
    PATH: "/bin",
  };
  restoreHeld(env);
  assert.deepEqual(env, { NODE_OPTIONS: "--require x.js", NODE_EXTRA_CA_CERTS: "/etc/ca.pem", PATH: "/bin" });
});

test("restoreHeld leaves alone what the list does not name, and names that are not NODE_*", () => {
  const env: NodeJS.ProcessEnv = {
    SYSJAIL_HELD: "PATH=NODE_GONE",
    SYSJAIL_HELD_PATH: "/evil",
    SYSJAIL_HELD_NODE_MINE: "kept",
    PATH: "/bin",
  };
  restoreHeld(env);
  assert.deepEqual(env, { SYSJAIL_HELD_PATH: "/evil", SYSJAIL_HELD_NODE_MINE: "kept", PATH: "/bin" });
  const none: NodeJS.ProcessEnv = { SYSJAIL_HELD_NODE_X: "1" };
  restoreHeld(none);
  assert.deepEqual(none, { SYSJAIL_HELD_NODE_X: "1" });
});

test("ownNodeEnv drops every NODE_* variable and keeps the rest", () => {
  assert.deepEqual(ownNodeEnv({ NODE_OPTIONS: "--inspect", NODE_PATH: "/x", NODEX: "1", HOME: "/root" }), { NODEX: "1", HOME: "/root" });
});
