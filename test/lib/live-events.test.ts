// Issue 23: a persistent jail's "limit" and "oom" events fire when the limit is reached, while
// the command that reached it still runs (not when it ends).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Jail, type JailLimitEvent } from "../../src/index.js";
import { requireRoot } from "../helpers/nobody.js";
import { waitUntil } from "../helpers/wait.js";
import { buildWork, libState, makeWorkRoot, type WorkRoot } from "./helpers.js";

let root: WorkRoot;
before(() => {
  requireRoot("the library tests");
  root = makeWorkRoot(buildWork());
});
after(() => root?.remove());

describe("Jail events while the jail lives", () => {
  it("a refused fork fires \"limit\" (pids) while the forking command still runs", async (t) => {
    const dir = libState(t);
    const jail = await Jail.create({ path: root.path, hostname: "live", stateDir: dir, limits: { pids: 4 } });
    t.after(() => jail.remove());
    const events: JailLimitEvent[] = [];
    jail.on("limit", (e) => events.push(e));
    // ten children that sleep a long time: the fourth fork is refused, and the command then
    // waits for its children until killed
    const p = jail.spawn("/work", ["fork", "10", "600"]);
    t.after(() => p.kill());
    let ended = false;
    void p.exit.then(() => (ended = true), () => (ended = true));
    await waitUntil(() => events.length > 0 || ended || undefined, "a limit event", 15_000);
    assert.equal(ended, false, "the event came before the command ended");
    assert.equal(events[0]!.limit, "pids");
    assert.equal(events[0]!.jid, jail.jid);
    assert.ok(events[0]!.count >= 1);
    assert.deepEqual(events[0]!.command, ["/work", "fork", "10", "600"], "the one running command is named");
    p.kill();
    await p.exit;
    // each announcement is of new refusals only: the counts grow
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.count > events[i - 1]!.count, JSON.stringify(events));
  });
});
