// Mistakes the types must catch: each line after @ts-expect-error is an error, and tsc reports a
// directive that is not needed, so this file compiles only if every mistake is caught.
import { run, Jail, type RunOptions } from "sysjail";

const base = { path: "/", hostname: "t", command: ["/bin/true"] };
// @ts-expect-error a misspelt limit key
await run({ ...base, limits: { memroy: "64M" } });
// @ts-expect-error a limit value of the wrong type
await run({ ...base, limits: { memory: true } });
// @ts-expect-error a mount without its target
await run({ ...base, mounts: [{ source: "/usr" }] });
// @ts-expect-error a mount type sysjail does not know
await run({ ...base, mounts: [{ source: "/usr", target: "/usr", type: "nfs" }] });
// @ts-expect-error mount options are a list
await run({ ...base, mounts: [{ source: "tmpfs", target: "/t", type: "tmpfs", options: "size=1M" }] });
// @ts-expect-error run() needs a command
await run({ path: "/", hostname: "t" });
// @ts-expect-error an unknown option
await run({ ...base, memory: "64M" });
// @ts-expect-error the command is an argv array, not a string
const o: RunOptions = { path: "/", hostname: "t", command: "/bin/true" };
// @ts-expect-error a user's `from` is "host" or "jail"
await Jail.create({ path: "/", hostname: "t", user: { name: "x", from: "elsewhere" } });
const j = await Jail.create({ path: "/", hostname: "t" });
// @ts-expect-error an event a jail never emits
j.on("exited", () => undefined);
// @ts-expect-error "exit" gives a RunReport, not a string
j.on("exit", (r: string) => r);
// @ts-expect-error update() knows hostname and limits only
await j.update({ name: "x" });
console.log(o);
