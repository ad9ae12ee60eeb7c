// sysjail(3): the library for Node programs. import { run, Jail, list, get, SysjailError } from "sysjail".
export { SysjailError, type ErrorPhase } from "./errors.js";
export { run, type RunResult } from "./lib/run.js";
export { list, get } from "./lib/registry.js";
export type { JailOptions, RunOptions, JailListeners, LimitsInput, LimitValue, MountInput, UserInput } from "./lib/options.js";
export type { RunReport, RunStatus } from "./limits/report.js";
export type { JailEntry } from "./registry/types.js";
export type { JailSpec, Limits, PolicyOptions, MountSpec } from "./spec/types.js";
export { VERSION } from "./version.js";
export { Jail, type JailProcess, type SpawnOptions, type JailLimitEvent, type JailEventName } from "./lib/jail.js";
export { startLauncher, type Launcher, type LauncherTemplate, type WorkTemplate } from "./lib/launcher.js";
export { restrict, type RestrictOptions, type Restricted } from "./lib/restrict.js";
