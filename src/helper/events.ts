// The helper's reports (JSON lines, native/src), as parsed: plain data, no Node types, so the
// run report's public types (src/limits/report.ts) need nothing but the package itself.

/** The helper's "exit" event (native/src/run.c), as parsed JSON. */
export interface ExitEvent {
  ev: "exit";
  setupFailed: boolean;
  /** The command's status is known (init reported it). */
  cmd: boolean;
  /** The command's exit code, -1 when it did not exit normally. */
  cmdCode: number;
  /** The signal that ended the command, 0 if none. */
  cmdSignal: number;
  initCode?: number;
  initSignal?: number;
  /** Why the monitor killed the jail, if it did. */
  reason?: "wall" | "cpu" | "terminated" | "killed" | "caller-gone" | null;
  /** reboot(2) from inside the jail. */
  halt?: "halt" | "restart" | null;
  /** getrusage of every reaped jail process. */
  utime?: number;
  stime?: number;
  maxrssKb?: number;
  /** Seconds from clone to the jail's end. */
  wall?: number;
  /** Seconds from the helper's start to the command's exec. */
  setup?: number;
  /** cgroupStat name -> file content. */
  stats?: Record<string, string>;
}
/** A step that failed: the op's index and name, errno, the path and a message. */
export interface ErrorEvent { ev: "error"; op: number; step: string; errno: number; path: string; msg: string }
/** The jail is set up: its init's pid and start time, and the monitor's pid. */
export interface StartedEvent { ev: "started"; initPid: number; initStart: number; monitorPid: number }
/** A kind of call the monitor's seccomp listener saw (native/src/notify.c; src/seccomp/listener.ts). */
export interface CallEvent { ev: "call"; arch: number; nr: number; ret: number; count: number; args: string[]; vals: string[][] }
/** Any report of the helper, by its `ev`. */
export type HelperEvent =
  | CallEvent
  | { ev: "hello"; proto: number; pid: number }
  | StartedEvent
  | { ev: "ready"; initPid?: number; pid?: number }
  | { ev: "step"; op: number; step: string; path: string }
  | { ev: "warn"; op: number; step: string; errno: number; path: string }
  | ErrorEvent
  | ExitEvent;
