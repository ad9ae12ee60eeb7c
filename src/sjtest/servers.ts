// Host-side listeners the network tests try to reach from a jail: TCP on 127.0.0.1 / ::1 and
// abstract unix sockets with a random name. Each counts its peers and is closed by the test.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { randomBytes } from "node:crypto";
import type { Ctx } from "./context.js";

/** A listener and the number of connections it accepted. */
export interface Listener {
  port: number;
  name: string;
  peers: () => number;
  close: () => Promise<void>;
}

function listen(ctx: Ctx, bind: (s: Server, ready: () => void) => void, name: string): Promise<Listener> {
  return new Promise((resolve, reject) => {
    let peers = 0;
    const socks = new Set<import("node:net").Socket>();
    const s = createServer((c) => { peers++; socks.add(c); c.on("error", () => {}); c.on("close", () => socks.delete(c)); c.resume(); });
    const close = () => new Promise<void>((r) => { for (const c of socks) c.destroy(); s.close(() => r()); });
    ctx.defer(close);
    s.on("error", reject);
    bind(s, () => {
      const a = s.address();
      resolve({ port: typeof a === "object" && a ? a.port : 0, name, peers: () => peers, close });
    });
  });
}

/** A TCP listener on HOST (127.0.0.1 or ::1), on a free port. */
export function tcpListener(ctx: Ctx, host: string): Promise<Listener> {
  return listen(ctx, (s, ready) => s.listen(0, host, ready), host);
}

/** An abstract unix socket listener with a random name (NAME without the leading NUL): the
 * probe's "userve" on the host (Node pads abstract names to the full sun_path, the probe does not). */
export function abstractListener(ctx: Ctx): Promise<Listener> {
  const name = `sjtest-${randomBytes(6).toString("hex")}`;
  return new Promise((resolve, reject) => {
    const child = spawn(ctx.probe, ["userve", name], { stdio: ["pipe", "pipe", "ignore"] });
    let peers = 0;
    let buf = "";
    let closed = false;
    const close = () => new Promise<void>((r) => {
      if (closed) { r(); return; }
      child.once("close", () => r());
      child.stdin.end();
    });
    child.on("close", () => { closed = true; });
    ctx.defer(close);
    child.on("error", reject);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const ls = buf.split("\n");
      buf = ls.pop()!;
      for (const l of ls) {
        if (l === "peer") peers++;
        else if (l === "listening") resolve({ port: 0, name, peers: () => peers, close });
        else reject(new Error(`the probe's abstract listener: ${l}`));
      }
    });
  });
}

/** Whether the host itself reaches LISTENER (the control that makes a test able to fail). */
export async function hostReaches(ctx: Ctx, l: Listener, how: "tcp4" | "tcp6" | "unix"): Promise<boolean> {
  const before = l.peers();
  const args = how === "unix" ? ["uconnect", l.name] : [how === "tcp4" ? "connect4" : "connect6", l.name, String(l.port)];
  const r = await ctx.exec(ctx.probe, args);
  if (!r.out.startsWith("ok")) return false;
  // the accept may trail the connect a little: wait for it (bounded: a hang detector only)
  for (let i = 0; i < 100 && l.peers() === before; i++) await new Promise((res) => setTimeout(res, 20));
  return l.peers() > before;
}
