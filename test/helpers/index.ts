// Shared helpers for tests that run real jails; see docs/TESTING.md.
export * from "./cli.js";
export * from "./jailroot.js";
export * from "./nobody.js";
export * from "./paths.js";
export * from "./probe.js";
export * from "./proc.js";
export * from "./rootsuite.js";
export * from "./suite.js";
export * from "./tmp.js";
export * from "./wait.js";
export * from "./podman.js";
export * from "./rootlessuser.js";
