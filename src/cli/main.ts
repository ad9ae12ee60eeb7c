// Wraps a tool's main: one line on stderr for every error, the right exit status, no stack traces.
import { vis } from "../manage/vis.js";
import { SysjailError } from "../errors.js";
import { captureFront, lastWord } from "../helper/front.js";

/** Tells bin/run-tool.js that this run went through the tool's main path, so the V8 code cache
 * it writes at exit covers that path: a cache made by a `-h` run alone would leave the code that
 * starts a jail to be compiled cold at every later start. */
export function mainPathRan(): void {
  pathRan(1);
}

/** Tells bin/run-tool.js that this run went through an optional path of the tool (BIT, 2 to 128,
 * the tool's own numbering): a cache made by runs without it is made again, once, by the first
 * run that took it (and kept what the cache had), so that path is not compiled cold at every
 * later run either (sysjail-oci: a container's seccomp profile, its cgroupsPath). */
export function pathRan(bit: number): void {
  const g = globalThis as Record<symbol, unknown>;
  const k = Symbol.for("sysjail.mainPathRan");
  const v = g[k];
  const bits = (v === true ? 1 : typeof v === "number" ? v : 0) | (bit & 255);
  g[k] = bits;
  (g[Symbol.for("sysjail.pathRanHook")] as ((b: number) => void) | undefined)?.(bits);
}

function isSysjailError(e: unknown): e is SysjailError {
  return e instanceof Error && e.name === "SysjailError" && typeof (e as SysjailError).exitCode === "number";
}

/** Exits with CODE now, the front told last (src/helper/front.ts lastWord). */
function exitNow(code: number): never {
  lastWord(code);
  process.exit(code);
}

/** Runs MAIN and exits with its status; errors become one line and their exit status. */
export function runTool(tool: string, main: (argv: string[]) => Promise<number>): void {
  captureFront(); // before anything reads the environment
  main(process.argv.slice(2)).then(
    (code) => {
      // exit at once: waiting for Node to wind its handles down costs several milliseconds
      exitNow(code);
    },
    (err: unknown) => {
      // by name too: a lazily loaded bundle (the seccomp compiler) carries its own copy of the class
      if (err instanceof SysjailError || isSysjailError(err)) {
        const msg = err.message.startsWith(`${tool}:`) || err.message.startsWith("sysjail:") ? err.message : `${tool}: ${err.message}`;
        process.stderr.write(`${vis(msg.replace(/^sysjail:/, `${tool}:`).split("\n")[0]!)}\n`);
        exitNow(err.exitCode);
      } else {
        const e = err as Error;
        process.stderr.write(`${tool}: internal error: ${vis(e?.message ?? String(err))}\n`);
        if (process.env.SYSJAIL_DEBUG) process.stderr.write(`${e?.stack ?? ""}\n`);
        exitNow(70);
      }
    },
  );
}
