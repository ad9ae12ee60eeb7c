// The launcher's process (src/lib/launcher.ts): runs the template's jails for its parent. Its
// parent may have confined itself and been taken over since: a request gives only the command,
// its input and the output cap; the jail itself is the template, fixed before the parent restricted.
import { run } from "./run.js";
import type { RunOptions } from "./options.js";

type Msg = { template?: Omit<RunOptions, "command">; id?: unknown; command?: unknown; stdin?: unknown; stdinBase64?: unknown; maxOutputBytes?: unknown; abort?: unknown };

let template: Omit<RunOptions, "command"> | undefined;
const aborts = new Map<number, AbortController>();
const send = (m: unknown) => process.send?.(m);

/** One error as data for the parent. */
function errorData(e: unknown): { message: string; code?: string; phase?: string; exitCode?: number } {
  const x = e as { message?: string; code?: string; phase?: string; exitCode?: number };
  return { message: String(x?.message ?? e), ...(x?.code ? { code: x.code } : {}), ...(x?.phase ? { phase: x.phase } : {}), ...(typeof x?.exitCode === "number" ? { exitCode: x.exitCode } : {}) };
}

process.on("message", (m: Msg) => {
  if (template === undefined) {
    if (typeof m?.template !== "object" || m.template === null) return send({ error: { message: "startLauncher(): no template" } });
    template = m.template;
    return send({ ready: true });
  }
  if (typeof m?.abort === "number") return aborts.get(m.abort)?.abort();
  const id = m?.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) return;
  if (!Array.isArray(m.command) || !m.command.every((a) => typeof a === "string")) return send({ id, error: { message: "run(): command must be a list of strings", code: "EUSAGE", phase: "usage", exitCode: 64 } });
  const opts: RunOptions = { ...template, command: m.command as string[] };
  if (typeof m.stdin === "string") opts.stdin = m.stdin;
  else if (typeof m.stdinBase64 === "string") opts.stdin = Buffer.from(m.stdinBase64, "base64");
  if (typeof m.maxOutputBytes === "number") opts.maxOutputBytes = m.maxOutputBytes;
  const ac = new AbortController();
  aborts.set(id, ac);
  opts.signal = ac.signal;
  run(opts).then(
    (result) => send({ id, result }),
    (e) => send({ id, error: errorData(e) }),
  ).finally(() => aborts.delete(id));
});
process.on("disconnect", () => {
  for (const ac of aborts.values()) ac.abort();
  process.exitCode = 0;
});
