// The cgroup layer's public surface: detection, backend selection, the v1/v2/none backends and stat parsing.
export { detectCgroups, parseMountinfo, parseSelfCgroup, type CgroupLayout, type CgroupMount } from "./detect.js";
export { findDelegation, type Delegation } from "./delegate.js";
export { selectBackend, defaultBackend, type SelectOptions } from "./select.js";
export { V1Backend, uniqueDirs, type V1Options } from "./v1.js";
export { V2Backend, type V2Options } from "./v2.js";
export { NoCgroupBackend, CGROUP_KEYS } from "./none.js";
export { parseStats, statKey, statNumber, type CgroupStats } from "./stats.js";
export { PIDS_OVERHEAD } from "./pids.js";
export * from "./types.js";
