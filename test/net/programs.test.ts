// The generated network programs, run in the interpreter against a model kernel: what each hook
// does with wildcard, loopback, listed, foreign and IPv4-mapped addresses.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bind4, bind6, connect4, connect6, getsockname4, getsockname6, sendmsg4, sendmsg6 } from "../../src/net/bpf/sockaddr.js";
import { skbFilter, sockCreate } from "../../src/net/bpf/skb.js";
import { jailPrograms } from "../../src/net/programs.js";
import { MAX_PROG_INSNS } from "../../src/ebpf/insn.js";
import { modelMap, packet, runSkb, runSockAddr, runSockCreate } from "./harness.js";

const EADDRNOTAVAIL = -99, ENETUNREACH = -101, EAFNOSUPPORT = -97, EPROTONOSUPPORT = -93, EPERM = -1;
const map = modelMap(["127.0.0.2", "127.0.0.5"], ["fd00::2", "fd00::5"]);
const only4 = modelMap(["127.0.0.2"], []);

describe("bind", () => {
  const p4 = bind4().build(), p6 = bind6().build();
  it("puts the wildcard and 127.0.0.1 on the first address", () => {
    for (const a of ["0.0.0.0", "127.0.0.1"]) {
      const o = runSockAddr(p4, { map, user: a });
      assert.equal(o.ret, 1n);
      assert.equal(o.user, "127.0.0.2");
    }
  });
  it("leaves a listed address alone and refuses others with EADDRNOTAVAIL", () => {
    assert.equal(runSockAddr(p4, { map, user: "127.0.0.5" }).user, "127.0.0.5");
    const o = runSockAddr(p4, { map, user: "127.0.0.3" });
    assert.equal(o.ret, 0n);
    assert.equal(o.retval, EADDRNOTAVAIL);
  });
  it("IPv6: :: and ::1 become the first IPv6 address, listed stays, others refused", () => {
    assert.equal(runSockAddr(p6, { map, user: "::" }).user, "fd00::2");
    assert.equal(runSockAddr(p6, { map, user: "::1" }).user, "fd00::2");
    assert.equal(runSockAddr(p6, { map, user: "fd00::5" }).user, "fd00::5");
    assert.equal(runSockAddr(p6, { map, user: "fd00::9" }).retval, EADDRNOTAVAIL);
    assert.equal(runSockAddr(p6, { map, user: "::7f00:1" }).retval, EADDRNOTAVAIL);
  });
  it("IPv4-mapped binds follow the IPv4 rules", () => {
    assert.equal(runSockAddr(p6, { map, user: "::ffff:0.0.0.0" }).user, "::ffff:127.0.0.2");
    assert.equal(runSockAddr(p6, { map, user: "::ffff:127.0.0.1" }).user, "::ffff:127.0.0.2");
    assert.equal(runSockAddr(p6, { map, user: "::ffff:127.0.0.5" }).ret, 1n);
    assert.equal(runSockAddr(p6, { map, user: "::ffff:127.0.0.3" }).retval, EADDRNOTAVAIL);
    const v6only = modelMap([], ["fd00::2"]);
    assert.equal(runSockAddr(p6, { map: v6only, user: "::ffff:0.0.0.0" }).retval, EADDRNOTAVAIL);
  });
});

describe("connect", () => {
  const p4 = connect4().build(), p6 = connect6().build();
  it("binds an unbound socket to the first address and allows", () => {
    const o = runSockAddr(p4, { map, user: "127.0.0.9", port: 80 });
    assert.equal(o.ret, 1n);
    assert.deepEqual(o.binds, ["::ffff:127.0.0.2"]);
    assert.equal(o.user, "127.0.0.9");
  });
  it("keeps a socket bound to another jail address, refuses one bound elsewhere", () => {
    const o = runSockAddr(p4, { map, user: "127.0.0.9", sockSrc: "127.0.0.5" });
    assert.equal(o.ret, 1n);
    assert.deepEqual(o.binds, []);
    assert.equal(runSockAddr(p4, { map, user: "127.0.0.9", sockSrc: "127.0.0.3" }).retval, EADDRNOTAVAIL);
  });
  it("sends 127.0.0.1 to the jail's own address", () => {
    assert.equal(runSockAddr(p4, { map, user: "127.0.0.1" }).user, "127.0.0.2");
  });
  it("IPv6: source from the IPv6 list; ::1 is the jail's own", () => {
    const o = runSockAddr(p6, { map, user: "fd00::77" });
    assert.equal(o.ret, 1n);
    assert.deepEqual(o.binds, ["fd00::2"]);
    assert.equal(runSockAddr(p6, { map, user: "::1" }).user, "fd00::2");
    assert.equal(runSockAddr(p6, { map, user: "fd00::77", sockSrc: "fd00::9" }).retval, EADDRNOTAVAIL);
  });
  it("IPv4-mapped destinations need an IPv4-mapped jail source", () => {
    const o = runSockAddr(p6, { map, user: "::ffff:127.0.0.9" });
    assert.equal(o.ret, 1n);
    assert.deepEqual(o.binds, ["::ffff:127.0.0.2"]);
    // a socket bound to an IPv6 address would leave from a kernel-made IPv4 source: refused
    assert.equal(runSockAddr(p6, { map, user: "::ffff:127.0.0.9", sockSrc: "fd00::2" }).retval, EADDRNOTAVAIL);
    assert.equal(runSockAddr(p6, { map, user: "::ffff:127.0.0.1" }).user, "::ffff:127.0.0.2");
    // a jail without IPv4 cannot reach IPv4 through a mapped address
    const v6only = modelMap([], ["fd00::2"]);
    assert.equal(runSockAddr(p6, { map: v6only, user: "::ffff:127.0.0.9" }).retval, ENETUNREACH);
    assert.equal(runSockAddr(p6, { map: v6only, user: "::ffff:127.0.0.1" }).retval, ENETUNREACH);
  });
});

describe("sendmsg", () => {
  const p4 = sendmsg4().build(), p6 = sendmsg6().build();
  it("gives an unbound datagram the first address", () => {
    const o = runSockAddr(p4, { map, user: "127.0.0.9", msgSrc: "0.0.0.0" });
    assert.equal(o.ret, 1n);
    assert.equal(o.msgSrc, "127.0.0.2");
  });
  it("refuses a foreign IP_PKTINFO source (and the kernel's 127.0.0.6 of IPv6-bound sockets)", () => {
    assert.equal(runSockAddr(p4, { map, user: "127.0.0.9", msgSrc: "127.0.0.3" }).retval, EADDRNOTAVAIL);
    assert.equal(runSockAddr(p4, { map, user: "127.0.0.9", msgSrc: "127.0.0.6" }).retval, EADDRNOTAVAIL);
    assert.equal(runSockAddr(p4, { map, user: "127.0.0.9", msgSrc: "127.0.0.5" }).ret, 1n);
  });
  it("IPv6 and mapped", () => {
    assert.equal(runSockAddr(p6, { map, user: "fd00::9", msgSrc: "::" }).msgSrc, "fd00::2");
    assert.equal(runSockAddr(p6, { map, user: "fd00::9", msgSrc: "fd00::7" }).retval, EADDRNOTAVAIL);
    assert.equal(runSockAddr(p6, { map, user: "::ffff:127.0.0.9", msgSrc: "::" }).msgSrc, "::ffff:127.0.0.2");
    assert.equal(runSockAddr(p6, { map, user: "::ffff:127.0.0.9", msgSrc: "fd00::2" }).retval, EADDRNOTAVAIL);
  });
});

describe("getsockname", () => {
  it("shows the first address for an implicitly bound wildcard, nothing else changes", () => {
    assert.equal(runSockAddr(getsockname4().build(), { map, user: "0.0.0.0", port: 4000 }).user, "127.0.0.2");
    assert.equal(runSockAddr(getsockname4().build(), { map, user: "0.0.0.0", port: 0 }).user, "0.0.0.0");
    assert.equal(runSockAddr(getsockname6().build(), { map, user: "::", port: 4000 }).user, "fd00::2");
    assert.equal(runSockAddr(getsockname6().build(), { map, user: "fd00::5", port: 4000 }).user, "fd00::5");
  });
});

describe("sock_create", () => {
  const p = sockCreate({ ping: false }).build();
  it("allows TCP and UDP of the jail's families only", () => {
    assert.equal(runSockCreate(p, only4, 2, 1, 6).ret, 1n);
    assert.equal(runSockCreate(p, only4, 2, 2, 17).ret, 1n);
    assert.equal(runSockCreate(p, only4, 10, 1, 6).retval, EAFNOSUPPORT);
    assert.equal(runSockCreate(p, map, 10, 1, 6).ret, 1n);
  });
  it("refuses raw, ping, SCTP and MPTCP", () => {
    assert.equal(runSockCreate(p, map, 2, 3, 1).retval, EPERM);
    assert.equal(runSockCreate(p, map, 2, 2, 1).retval, EPROTONOSUPPORT);
    assert.equal(runSockCreate(p, map, 2, 1, 132).retval, EPROTONOSUPPORT);
    assert.equal(runSockCreate(p, map, 2, 1, 262).retval, EPROTONOSUPPORT);
    assert.equal(runSockCreate(sockCreate({ ping: true }).build(), map, 2, 2, 1).ret, 1n);
  });
});

describe("ingress and egress", () => {
  const out = skbFilter("egress").build(), inn = skbFilter("ingress").build();
  it("egress passes only jail sources", () => {
    assert.equal(runSkb(out, map, packet("127.0.0.2", "127.0.0.9")), 1n);
    assert.equal(runSkb(out, map, packet("127.0.0.5", "127.0.0.9")), 1n);
    assert.equal(runSkb(out, map, packet("127.0.0.1", "127.0.0.9")), 0n);
    assert.equal(runSkb(out, map, packet("0.0.0.0", "127.0.0.9")), 0n);
    assert.equal(runSkb(out, map, packet("fd00::2", "fd00::9")), 1n);
    assert.equal(runSkb(out, map, packet("::", "fd00::9")), 0n);
    assert.equal(runSkb(out, map, packet("::ffff:127.0.0.2", "fd00::9")), 0n);
  });
  it("ingress delivers only to jail destinations", () => {
    assert.equal(runSkb(inn, map, packet("127.0.0.9", "127.0.0.2")), 1n);
    assert.equal(runSkb(inn, map, packet("127.0.0.9", "127.0.0.7")), 0n);
    assert.equal(runSkb(inn, map, packet("fd00::9", "fd00::5")), 1n);
    assert.equal(runSkb(inn, map, packet("fd00::9", "fd00::6")), 0n);
  });
  it("drops what is not IPv4 or IPv6, or too short", () => {
    const p = packet("127.0.0.9", "127.0.0.2");
    p[0] = 0x55;
    assert.equal(runSkb(inn, map, p), 0n);
    assert.equal(runSkb(inn, map, packet("127.0.0.9", "127.0.0.2").subarray(0, 12)), 0n);
  });
});

describe("the program set", () => {
  it("has one small program per hook, each named within the kernel's 15 bytes", () => {
    const progs = jailPrograms({ ping: false });
    assert.equal(new Set(progs.map((p) => p.attach)).size, progs.length);
    for (const p of progs) {
      assert.ok(p.name.length <= 15, p.name);
      assert.ok(p.program.insns.length < MAX_PROG_INSNS / 8, `${p.name}: ${p.program.insns.length}`);
      assert.equal(p.bytes.byteLength, p.program.insns.length * 8);
    }
  });
});
