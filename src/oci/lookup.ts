// sysjail-oci's command lookup before the start gate: the files the exec's PATH search will try.
import { op, type PlanOp } from "../plan/types.js";

/** glibc's execvpe search path when the environment has no PATH (its confstr _CS_PATH). */
const DEFAULT_PATH = "/bin:/usr/bin";
/** More candidates than this (a PATH of thousands of entries): no lookup, the exec decides. */
const MAX_CANDIDATES = 1024;

/** The files execvpe tries for the plan's command, in its order (glibc posix/execvpe.c): a name
 * with a slash as it is, else the name in each entry of the PATH of the command's environment
 * (an empty entry is the working directory); a relative one under the plan's working directory,
 * where the exec runs. An empty name: none (execvpe's ENOENT). Undefined: no exec op, or too
 * many to list. */
export function lookupCandidates(ops: readonly PlanOp[]): string[] | undefined {
  const ex = ops.find((o) => o.op === "exec");
  const file = ex?.args[0];
  if (typeof file !== "string") return undefined;
  if (file === "") return [];
  const cwd = ops.find((o) => o.op === "cwd")?.args[0];
  const dir = typeof cwd === "string" && cwd.startsWith("/") ? cwd : "/";
  const abs = (p: string) => (p.startsWith("/") ? p : `${dir}${dir.endsWith("/") ? "" : "/"}${p}`);
  if (file.includes("/")) return [abs(file)];
  // getenv's answer: the first PATH= of the environment the exec gets
  const env = ops.find((o) => o.op === "env" && typeof o.args[0] === "string" && o.args[0].startsWith("PATH="));
  const path = env ? (env.args[0] as string).slice(5) : DEFAULT_PATH;
  const entries = path.split(":");
  if (entries.length > MAX_CANDIDATES) return undefined;
  return entries.map((e) => abs(e === "" ? file : `${e}/${file}`));
}

/** The lookup op for a container's plan OPS (the init looks each candidate up before the start
 * gate, native/src/lookup.c), or undefined when there is none to make. A container without a
 * root of its own (a mount namespace joined by path: no pivot op) looks nothing up: it lives in
 * another mount table, where the exec alone decides, as before create waited for the lookup. */
export function lookupOp(ops: readonly PlanOp[]): PlanOp | undefined {
  if (!ops.some((o) => o.op === "pivot")) return undefined;
  const files = lookupCandidates(ops);
  return files ? op("lookup", files, "the command looked up before the start gate, as runc's create does") : undefined;
}

/** COMMAND as one printable line: control characters (C0, DEL, C1) and the backslash as \xNN,
 * as the container's own line after start reads (native/src/command.c oci_say). */
function escapeName(command: string): string {
  return command.replace(/[\x00-\x1f\x7f-\x9f\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** runc's words for a command the lookup found missing or unrunnable (podman maps "no such file
 * or directory" to 127, "permission denied" to 126); COMMAND, the image's, escaped. */
export function execFailure(command: string, errno: number | undefined): string {
  const why = errno === 2 ? "no such file or directory" : errno === 13 ? "permission denied" : `errno ${errno ?? "?"}`;
  return `exec "${escapeName(command)}": ${why}`;
}
