// What a mkjail run was asked for, and the events it reports.

/** A parsed mkjail command line. */
export interface MkjailArgs {
  source: Source;
  dir: string;
  cacheDir?: string | undefined;
  sets: string[];
  devs?: DevProfile | undefined;
  name?: string | undefined;
  json: boolean;
  force: boolean;
  mirror?: string | undefined;
  /** --site-dir: where site.tgz and site-NAME.tgz are. */
  siteDir?: string | undefined;
  help: boolean;
}

/** Where a tree comes from. */
export type Source =
  | { kind: "debian"; suite: string }
  | { kind: "nano"; programs: string[] }
  | { kind: "thin" }
  | { kind: "tar"; file: string }
  | { kind: "oci"; dir: string };

/** -d: the device profiles and the devfs ruleset each becomes. */
export type DevProfile = "base" | "ssh" | "http" | "all";

/** Reports progress: a step (with a percentage when known), or a line of a tool's output. */
export interface Progress {
  step(what: string, pct?: number): void;
  log(line: string): void;
  /** A terminal watches (no --json): tools may draw their own progress on it. */
  readonly terminal: boolean;
}
