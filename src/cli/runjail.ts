// Runs a jail from a command-line tool: in the foreground (status passed on) or in the background.
import { prepare } from "../jail/prepare.js";
import { JailRun } from "../jail/run.js";
import { exitStatus } from "../jail/status.js";
import type { JailSpec } from "../spec/types.js";

/** Options of sysjail and jail that concern running. */
export interface CliRunOptions {
  tool: string;
  debug: number;
  background: boolean;
  printJid: boolean;
  dryRun: boolean;
  stateDir?: string | undefined;
}

function reporters(run: CliRunOptions) {
  return {
    debug: run.debug >= 2 ? (l: string) => process.stderr.write(`${run.tool}: ${l}\n`) : undefined,
    warn: run.debug >= 1 ? (l: string) => process.stderr.write(`${run.tool}: ${l}\n`) : undefined,
  };
}

/** Runs the jail attached to this process; resolves to the exit status to use. */
export async function foreground(spec: JailSpec, run: CliRunOptions): Promise<number> {
  const prep = prepare(spec, { stateDir: run.stateDir, debug: run.debug, detach: false });
  if (run.debug >= 2) process.stderr.write(`${run.tool}: plan: ${prep.plan.ops.map((o) => o.op).join(" ")}\n`);
  const jr = new JailRun(spec, prep, { stdio: "inherit", detach: false, ...reporters(run) });
  const stop = () => jr.terminate();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  const ok = await jr.ready();
  if (ok && run.printJid) process.stdout.write(`${jr.jid}\n`);
  const ev = await jr.wait();
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  process.off("SIGHUP", stop);
  if (jr.error) throw jr.error;
  if (!ev) return 70;
  if (ev.halt) process.stderr.write(`${run.tool}: jail ${jr.jid} ${ev.halt === "halt" ? "halted" : "rebooted"} from inside\n`);
  return exitStatus(ev);
}

/** Starts the jail detached (-b): its monitor goes on without this process. */
export async function background(spec: JailSpec, run: CliRunOptions): Promise<number> {
  const prep = prepare(spec, { stateDir: run.stateDir, debug: run.debug, detach: true });
  const jr = new JailRun(spec, prep, { stdio: "ignore", detach: true, ...reporters(run) });
  const ok = await jr.ready();
  if (!ok) {
    if (jr.error) throw jr.error;
    return 70;
  }
  jr.detach();
  if (run.printJid) process.stdout.write(`${jr.jid}\n`);
  return 0;
}
