// vnet jails: a veth pair to the host, TCP both ways, and nothing left after the jail or after a
// failed start. Each case runs in a network namespace the test makes (unshare -n), so the host
// end, its routes and 10.99.0.0/24 exist only there.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jailCgroups, port, REPO, requireNet, setup, teardown, type NetEnv } from "./jails.js";

/** Runs a shell script in a fresh network namespace with lo up; $SJ is sysjail, $R the root, $P the probe. */
function inNetns(env: NetEnv, script: string): string {
  const r = spawnSync("unshare", ["-n", "bash", "-c", `ip link set lo up\n${script}`], {
    encoding: "utf8", timeout: 60000,
    env: { ...process.env, SJ: `${process.execPath} ${join(REPO, "bin", "sysjail.js")} -j ${env.state}`, R: env.root, P: env.probe },
  });
  return `${r.stdout}${r.stderr}`;
}

describe("vnet jails", { concurrency: false }, () => {
  let env: NetEnv;
  before(() => { requireNet("unshare -n"); env = setup(); });
  after(async () => {
    assert.deepEqual(await teardown(env), [], "jail cgroups left behind");
  });

  it("carries TCP from the host to the jail and back, then leaves nothing", () => {
    const p = port();
    const out = inNetns(env, `
      jo=$(mktemp); so=$(mktemp)
      # each server is waited for by its "listening" line (the deadline only keeps a broken start
      # from hanging the test)
      listening() { i=0; until grep -q listening "$1" || [ $i -ge 600 ]; do sleep 0.05; i=$((i+1)); done; }
      $SJ --vnet -4 10.99.0.2 $R vj /p echo-serve 0.0.0.0 ${p} 3 >"$jo" 2>&1 &
      listening "$jo"
      echo "links: $(ip -o link | grep -c sj)"
      $P echo 10.99.0.2 ${p} to-jail
      $P serve 169.254.0.1 ${p + 1} 3 >"$so" &
      listening "$so"
      $SJ --vnet -4 10.99.0.3 $R vj2 /p connect 169.254.0.1 ${p + 1}
      wait
      cat "$jo"
      echo "host saw: $(grep peer "$so")"; rm -f "$jo" "$so"
      echo "after: links=$(ip -o link | grep -vc ' lo:') routes=$(ip route | wc -l) routes6=$(ip -6 route | grep -vc '^::1\\|^fe80\\|^multicast')"
    `);
    assert.match(out, /listening 0\.0\.0\.0 /, "its own stack: the wildcard stays");
    assert.match(out, /links: 1/);
    assert.match(out, /^ok to-jail$/m);
    assert.match(out, /^ok 10\.99\.0\.3$/m, out);
    assert.match(out, /host saw: peer 10\.99\.0\.3/);
    assert.match(out, /after: links=0 routes=0 routes6=0/);
  });

  it("gives the jail its own stack: IPv6 too, and it may configure it", () => {
    const out = inNetns(env, `
      ip addr add fd00::1/128 dev lo nodad
      $SJ --vnet -6 fd00::9 $R vj /p bind :: 0
      $SJ --vnet -4 10.99.0.4 $R vj /p bind 10.99.0.5 0
      $SJ --vnet -4 10.99.0.4 $R vj /p connect 169.254.0.1 1
    `);
    assert.match(out, /^ok ::$/m, "a vnet jail's wildcard stays the wildcard: the stack is its own");
    assert.match(out, /^err EADDRNOTAVAIL$/m);
    assert.match(out, /^err ECONNREFUSED$/m);
  });

  it("moves vnet.interface in and gives it back at the end", () => {
    const fixture = join(REPO, "test", "net", "fixtures", "vnet-interface.mjs");
    const out = inNetns(env, `
      ip link add vt0 type veth peer name vt1
      out=$(mktemp)
      ${process.execPath} ${fixture} ${REPO} $R ${env.state} vt1 listen-unbound 4 1 >"$out" 2>&1 &
      # the jail runs once its probe listens (with vt1 moved in); the deadline only keeps a broken
      # start from hanging the test
      i=0; until grep -q listening "$out" || [ $i -ge 600 ]; do sleep 0.05; i=$((i+1)); done
      echo "during: $(ip -o link | grep -c vt1)"
      wait
      cat "$out"; rm -f "$out"
      echo "after: $(ip -o link | grep -c 'vt1@')"
    `);
    assert.match(out, /during: 0/, out);
    assert.match(out, /after: 1/, out);
  });

  it("undoes a start that fails half-way (the host already routes the address)", () => {
    const before = jailCgroups(env.state);
    const out = inNetns(env, `
      ip route add 10.99.0.7/32 dev lo
      $SJ --vnet -4 10.99.0.7 $R vj /p bind 0.0.0.0 0; echo "rc=$?"
      echo "after: sj-links=$(ip -o link | grep -c sj)"
    `);
    assert.match(out, /already has a route/);
    assert.match(out, /rc=(7\d|1)/);
    assert.match(out, /after: sj-links=0/);
    assert.deepEqual(jailCgroups(env.state).filter((n) => !before.includes(n)), []);
  });
});
