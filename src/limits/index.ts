// The limits layer's public surface: parsing, planning, rlimits and the run report.
export { parseLimits, normalizeLimits, formatLimits, weightToShares, sharesToWeight, LIMIT_KEYS, RCTL_KEYS } from "./parse.js";
export { parseSize, parseDuration, formatSize, formatDuration } from "./units.js";
export { planLimits, planCgroups, type LimitsPlan, type LimitsPlanOptions, type CgroupContext, type RlimitTuple } from "./plan.js";
export { RLIMIT, RLIM_INFINITY, rlimitOp, baseRlimits, fallbackRlimits } from "./rlimit.js";
export { buildReport, signalName, type ExitEvent, type ReportContext, type RunReport, type RunStatus } from "./report.js";
