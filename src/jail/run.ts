// Runs a planned jail through the helper: records it in the registry, follows its events.
import type { StdioOptions } from "node:child_process";
import type { CallEvent } from "../helper/events.js";
import { errnoName, type SysjailError } from "../errors.js";
import { HelperRun, lostReportError, stepError, type ErrorEvent, type ExitEvent, type StartedEvent } from "../helper/launch.js";
import type { JailEntry } from "../registry/types.js";
import type { JailSpec } from "../spec/types.js";
import type { Prepared } from "./prepare.js";
import { processStart } from "../registry/store.js";
import { cleanUpAfterMonitor, removeUnstartedCgroups } from "./orphan.js";
import { faultPoint } from "./fault.js";

/** The current time in ISO 8601 (UTC), like Date#toISOString without loading the time zone
 * data (which that call reads on first use: a cost at every start). */
export function isoNow(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}Z`;
}

/** How a jail run is followed. */
export interface FollowOptions {
  stdio: StdioOptions;
  detach: boolean;
  /** Called with debug lines (-d -d). */
  debug?: ((line: string) => void) | undefined;
  /** Called with warnings (-d). */
  warn?: ((line: string) => void) | undefined;
  /** Called with notices a user must see without -d (a rootless jail's network tool died). */
  notice?: ((line: string) => void) | undefined;
  cgroups?: Record<string, string> | undefined;
  lifecycle?: Record<string, unknown> | undefined;
}

/** A jail that has been handed to the helper. */
export class JailRun {
  readonly helper: HelperRun;
  readonly jid: number;
  entry: JailEntry | undefined;
  error: SysjailError | undefined;
  exit: ExitEvent | undefined;
  /** The calls the monitor's seccomp listener saw (a listening jail, at its end). */
  readonly calls: CallEvent[] = [];
  private readyResolved = false;

  /** Hands the plan to the helper: a fresh one, or one spawned early (HelperRun("run", ...)). */
  constructor(readonly spec: JailSpec, readonly prep: Prepared, private readonly opts: FollowOptions, early?: HelperRun) {
    this.jid = prep.reservation.jid;
    try {
      if (early) {
        early.sendPlan(prep.plan);
        this.helper = early;
      } else {
        this.helper = new HelperRun(prep.plan, opts.stdio, opts.detach);
      }
    } catch (err) {
      prep.reservation.release();
      throw err;
    }
  }

  private record(ev: StartedEvent): void {
    const { spec, prep } = this;
    const ids = prep.plan.ops.filter((o) => o.op === "uidMap" || o.op === "gidMap").map((o) => String(o.args[0]));
    const entry: JailEntry = {
      jid: this.jid,
      name: prep.reservation.name,
      path: spec.path,
      hostname: spec.hostname,
      ip4: spec.ip4,
      ip6: spec.ip6,
      initPid: ev.initPid,
      initStart: ev.initStart,
      monitorPid: ev.monitorPid,
      monitorStart: processStart(ev.monitorPid),
      owner: prep.facts.uid,
      // made anew or joined by path (sysjail-oci): the ones a process enters to be in the jail
      namespaces: prep.plan.ops.reduce((f, o) => (o.op === "clone" || o.op === "nsJoin" ? f | Number(o.args[0]) : f), 0),
      command: spec.command ?? [],
      startedAt: isoNow(),
      persist: spec.persist,
      idmap: { uidMap: ids[0] ?? "", gidMap: ids[1] ?? "", rootless: prep.facts.uid !== 0 },
      ...(prep.idChoice?.lease ? {
        ids: {
          uid: prep.idChoice.mapping.hostBase, gid: prep.idChoice.mapping.gidBase ?? prep.idChoice.mapping.hostBase,
          count: prep.idChoice.mapping.count, lease: prep.idChoice.lease, ...(prep.idChoice.file ? { file: prep.idChoice.file } : {}),
        },
      } : {}),
      cgroups: { ...(this.prep.cgroups?.paths ?? this.opts.cgroups ?? {}), ...(this.prep.cgroups?.joined ?? {}), ...(this.prep.netCgroup ? { net: this.prep.netCgroup } : {}) },
      // the environment stays with the caller: entries are readable by jls, and jexec takes its own
      spec: { ...spec, env: {} },
      ...(this.opts.lifecycle ? { lifecycle: this.opts.lifecycle } : {}),
    };
    prep.registry.write(entry);
    this.entry = entry;
    this.helper.send("A"); // recorded: the monitor may remove the files when the jail ends
    faultPoint("started");
  }

  /** A jail that holds cgroups or host links, once started (off the path to its command):
   * removes what dead jails of the same registry left (src/manage/gc.ts). Never fails the run. */
  private async collectLeftovers(): Promise<void> {
    const { prep, spec } = this;
    if (!prep.cgroups && !prep.netCgroup && !spec.vnet) return;
    try {
      const { collectLeftovers } = await import("../manage/gc.js");
      collectLeftovers(prep.registry.dir);
    } catch {
      /* best effort: jls, jail -r and sjls --gc collect too */
    }
  }

  private onWarn(ev: { op?: number; step: string; errno: number; path: string }): void {
    // the helper made the text printable (native/src/net.c net_reap)
    if (ev.step === "net-helper") this.opts.notice?.(ev.path);
    // a tree the plan wanted idmapped (sysjail-oci, native/src/idmaptree.c) that the kernel would not
    else if (ev.step === "idmap") {
      const what = this.prep.plan.ops[ev.op ?? -1]?.op === "root" ? "root.path" : "mount source";
      this.opts.warn?.(`warning: ${what} ${ev.path.replace(/[^\x20-\x7e]/g, "?")} cannot be idmapped (${errnoName(ev.errno)}${ev.errno === 22 ? ": its filesystem does not support it, or a mount below it" : ""}): mounted with its owners as on disk, so the container's root does not own its root-owned files (remedies: id maps, podman --userns=auto, or the host's ids: --annotation sysjail.ids=host)`);
    }
    else this.opts.warn?.(`warning: ${ev.step} ${ev.path}: skipped (${ev.errno === 2 ? "missing" : ev.errno})`);
  }

  private onError(ev: ErrorEvent): void {
    this.error ??= stepError(ev, this.spec.path);
  }

  /** Follows events until the command runs (or the init is ready for a persistent jail).
   * Resolves false when the jail failed before that. */
  async ready(): Promise<boolean> {
    for (;;) {
      const ev = await this.helper.next();
      if (!ev) return await this.finishClosed();
      switch (ev.ev) {
        case "started": this.record(ev); await this.collectLeftovers(); break;
        case "error": this.onError(ev); break;
        case "step": this.opts.debug?.(`step ${ev.op} ${ev.step} ${ev.path}`); break;
        case "warn": this.onWarn(ev); break;
        case "ready": this.readyResolved = true; return !this.error;
        case "exit": this.exit = ev; this.cleanup(); return false;
        case "call": this.calls.push(ev); break;
        default: break;
      }
    }
  }

  /** Follows events until the monitor reports the start and the jail is recorded: for a command
   * held back by a start gate (sysjail-oci create, whose "ready" then means the container is
   * built and its command looked up, before `start`). Resolves false when the jail failed before that. */
  async untilStarted(): Promise<boolean> {
    for (;;) {
      const ev = await this.helper.next();
      if (!ev) return await this.finishClosed();
      switch (ev.ev) {
        case "started": this.record(ev); return !this.error;
        case "error": this.onError(ev); break;
        case "step": this.opts.debug?.(`step ${ev.op} ${ev.step} ${ev.path}`); break;
        case "warn": this.onWarn(ev); break;
        case "exit": this.exit = ev; this.cleanup(); return false;
        default: break;
      }
    }
  }

  /** The channel closed without an exit report: the monitor died (killed). Its jail died with
   * it; what it could not remove is removed here (src/jail/orphan.ts). */
  private async finishClosed(): Promise<boolean> {
    // test-only (test/faults): the caller stops dead as well, so nothing cleans up but a later run
    faultPoint("caller");
    if (!this.error && !this.exit) {
      this.error = lostReportError();
      const e = this.entry;
      if (e) await cleanUpAfterMonitor(e, this.prep.registry);
      // killed before it reported the start: it may have made the cgroups already; the
      // reservation stays until they are gone, so a later collection still finds them
      else if (await removeUnstartedCgroups(this.prep)) this.prep.reservation.release();
      return false;
    }
    this.cleanup();
    return false;
  }

  /** Follows events until the jail ends; resolves to the exit event (undefined on a lost helper). */
  async wait(): Promise<ExitEvent | undefined> {
    if (this.exit) return this.exit;
    for (;;) {
      const ev = await this.helper.next();
      if (!ev) { await this.finishClosed(); return this.exit; }
      if (ev.ev === "started") { this.record(ev); await this.collectLeftovers(); } else if (ev.ev === "error") this.onError(ev);
      else if (ev.ev === "step") this.opts.debug?.(`step ${ev.op} ${ev.step} ${ev.path}`);
      else if (ev.ev === "warn") this.onWarn(ev);
      else if (ev.ev === "exit") { this.exit = ev; this.cleanup(); return ev; }
      else if (ev.ev === "call") this.calls.push(ev);
    }
  }

  /** For a background jail: tell the monitor it is recorded, then let go of it. */
  detach(): void {
    this.helper.send("A");
    this.helper.release();
  }

  /** Ask the monitor to end the jail. */
  terminate(): void {
    this.helper.send("T");
  }

  get isReady(): boolean {
    return this.readyResolved;
  }

  /** The monitor removes a started jail's files itself, after its cgroups; only a jail whose
   * monitor never reported a start is released here. */
  private cleanup(): void {
    if (!this.entry) this.prep.reservation.release();
  }
}
