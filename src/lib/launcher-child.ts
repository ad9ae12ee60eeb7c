// The launcher's process (src/lib/launcher.ts): runs the template's jails for its parent. Its
// parent may have confined itself and been taken over since: a request gives only the command,
// its input, the output cap and, with the template's `work`, the files of the run's fresh
// directory and the names to read back; the jail itself is the template, fixed before the parent
// restricted. Every request is checked here again: the parent's checks are only for its caller.
import { run } from "./run.js";
import type { RunOptions } from "./options.js";
import type { LauncherTemplate } from "./launcher.js";
import { checkCollect, checkWorkFiles, collectFiles, makeRunDir, makeWorkBase, removeWork } from "./launcher-work.js";

type Msg = { template?: LauncherTemplate; id?: unknown; command?: unknown; stdin?: unknown; stdinBase64?: unknown; maxOutputBytes?: unknown; files?: unknown; collect?: unknown; abort?: unknown };
type Work = { in: string; mount?: string; mode: number; maxFileBytes: number };

let template: Omit<RunOptions, "command"> | undefined;
let work: Work | undefined;
let base: string | undefined;
const aborts = new Map<number, AbortController>();
const running = new Set<Promise<unknown>>();
const send = (m: unknown) => process.send?.(m);

/** One error as data for the parent. */
function errorData(e: unknown): { message: string; code?: string; phase?: string; exitCode?: number } {
  const x = e as { message?: string; code?: string; phase?: string; exitCode?: number };
  return { message: String(x?.message ?? e), ...(x?.code ? { code: x.code } : {}), ...(x?.phase ? { phase: x.phase } : {}), ...(typeof x?.exitCode === "number" ? { exitCode: x.exitCode } : {}) };
}

/** One run: its fresh directory (with work), the jail, the files read back, the directory removed. */
async function launch(opts: RunOptions, files: ReturnType<typeof checkWorkFiles>, collect: string[]) {
  if (!work || !base) return run(opts);
  const dir = await makeRunDir(base, work.mode, files);
  try {
    if (work.mount !== undefined) opts.mounts = [...(opts.mounts ?? []), { type: "bind", source: dir, target: work.mount, readonly: false, options: [] }];
    else opts.path = dir;
    const result = await run(opts);
    return collect.length ? { ...result, files: collectFiles(dir, collect, work.maxFileBytes) } : result;
  } finally {
    await removeWork(dir);
  }
}

process.on("message", (m: Msg) => {
  if (template === undefined) {
    if (typeof m?.template !== "object" || m.template === null) return send({ error: { message: "startLauncher(): no template" } });
    const { work: w, ...rest } = m.template;
    template = rest as Omit<RunOptions, "command">;
    if (!w) return send({ ready: true });
    work = w as Work;
    makeWorkBase(work.in).then((b) => {
      base = b;
      send({ ready: true });
    }, (e) => send({ error: { message: `startLauncher(): work.in: ${String((e as Error).message)}` } }));
    return;
  }
  if (typeof m?.abort === "number") return aborts.get(m.abort)?.abort();
  const id = m?.id;
  if (typeof id !== "number" || !Number.isSafeInteger(id)) return;
  if (!Array.isArray(m.command) || !m.command.every((a) => typeof a === "string")) return send({ id, error: { message: "run(): command must be a list of strings", code: "EUSAGE", phase: "usage", exitCode: 64 } });
  let files: ReturnType<typeof checkWorkFiles>, collect: string[];
  try {
    if (!work && (m.files !== undefined || m.collect !== undefined)) throw Object.assign(new Error("run(): files and collect need a launcher with work"), { code: "EUSAGE", phase: "usage", exitCode: 64 });
    if (m.files !== undefined && !Array.isArray(m.files)) throw Object.assign(new Error("run(): files must be a list"), { code: "EUSAGE", phase: "usage", exitCode: 64 });
    const list = (m.files ?? []) as { name?: unknown; data?: unknown; mode?: unknown }[];
    if (list.some((f) => typeof f?.name !== "string")) throw Object.assign(new Error("run(): files: a name must be a string"), { code: "EUSAGE", phase: "usage", exitCode: 64 });
    files = checkWorkFiles(m.files === undefined ? undefined : Object.fromEntries(list.map((f) => [f.name as string, { data: f.data, mode: f.mode }])));
    collect = checkCollect(m.collect);
  } catch (e) {
    return send({ id, error: errorData(e) });
  }
  const opts: RunOptions = { ...template, command: m.command as string[] };
  if (typeof m.stdin === "string") opts.stdin = m.stdin;
  else if (typeof m.stdinBase64 === "string") opts.stdin = Buffer.from(m.stdinBase64, "base64");
  if (typeof m.maxOutputBytes === "number") opts.maxOutputBytes = m.maxOutputBytes;
  const ac = new AbortController();
  aborts.set(id, ac);
  opts.signal = ac.signal;
  const p = launch(opts, files, collect).then(
    (result) => send({ id, result }),
    (e) => send({ id, error: errorData(e) }),
  ).finally(() => {
    aborts.delete(id);
    running.delete(p);
  });
  running.add(p);
});
process.on("disconnect", () => {
  for (const ac of aborts.values()) ac.abort();
  process.exitCode = 0;
  // the runs end (their directories removed), then the base goes
  void Promise.allSettled([...running]).then(() => (base ? removeWork(base) : undefined)).catch(() => undefined);
});
