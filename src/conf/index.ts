// The FreeBSD configuration languages: jail.conf(5), jail(8) parameters, devfs.rules(5) and fstab(5) lines.
export { confError, formatPos, type SourcePos } from "./errors.js";
export { Lexer, type Piece, type Token, type Word } from "./lexer.js";
export {
  DEFAULT_JAIL_CONF,
  defaultJailConfs,
  isWildJailName,
  listJails,
  parseJailConf,
  wildJailMatch,
  type ConfBlock,
  type ConfStatement,
  type ConfValue,
  type JailConf,
  type ParseOptions,
} from "./parser.js";
export { PARAMS, lookupParam, sameParam, type ParamInfo, type ParamKind, type ParamRef } from "./params.js";
export { findJailBlock, hasJail, resolveJail, resolveParams, type ParamValue, type ResolvedJail } from "./resolve.js";
export { formatParamArgs, parseLegacyArgs, parseParamArgs, type ParamArg } from "./cli.js";
export {
  CREATE_STEPS,
  REMOVE_STEPS,
  paramsToSpec,
  type ConfSpec,
  type JailHooks,
  type JailLifecycle,
  type ToSpecOptions,
} from "./spec.js";
export { jailTarget, parseFstab, parseFstabAt, parseFstabLine } from "./fstab.js";
export { RCTL_RESOURCES, rctlRule, type LimitKey } from "./rctl.js";
export { applyStoreArgs, storeGet, storeRecord, storeSetAll, storeSetKey, storeText, type StoreLines } from "./kvstore.js";
export { createOrder, dependGraph, removeOrder } from "./depend.js";
export { fnmatch, fsGlob, hasGlobMeta } from "./glob.js";
export {
  BUILTIN_DEVFS_RULES,
  DEFAULT_DEVFS_RULES,
  PROTECTED_DEVICES,
  builtinDevfsRules,
  devfsNodes,
  evalDevfsRuleset,
  linuxDevType,
  mergeDevfsRules,
  parseDevfsRules,
  type DevType,
  type DevfsAction,
  type DevfsEvalOptions,
  type DevfsNode,
  type DevfsRule,
  type DevfsRules,
  type DevfsRuleset,
  type DevfsVerdict,
} from "./devfs.js";
