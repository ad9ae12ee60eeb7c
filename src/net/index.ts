// Jail addresses (issue 7): modes, host look-up, plan ops, the address map and its updates.
export { parseJailAddr, parseJailAddrs, canonicalAddr, ip4Bytes, ip6Bytes, ip6Text, MAX_ADDRS, type JailAddr } from "./addr.js";
export { netMode, type NetMode } from "./mode.js";
export { prepareNet, findNetTool, rootlessNotice, hostIfName, vnetInterfaces, JAIL_IF, type NetContext, type NetTool, type PrepareNetOptions } from "./context.js";
export { checkConflicts } from "./conflict.js";
export { netOps, VNET_GATEWAY, type NetOps, type NetOpsOptions } from "./plan.js";
export { ADDR_MAP, mapEntries, mapChanges, encodeEntries, encodeKeys, type MapEntry } from "./map.js";
export { addressUpdateOps, jailNetCgroup } from "./update.js";
export { jailPrograms, type JailProgram, type ProgramOptions } from "./programs.js";
export { dumpNet } from "./dump.js";
