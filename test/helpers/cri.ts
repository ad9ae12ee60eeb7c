// A small CRI client for tests: gRPC (HTTP/2 over a unix socket, node:http2) carrying protobuf
// messages encoded and decoded by hand, only the runtime.v1 messages and fields the tests use
// (field numbers from the public CRI api.proto, k8s.io/cri-api pkg/apis/runtime/v1).
import { connect, constants, type ClientHttp2Session } from "node:http2";
import { connect as netConnect } from "node:net";

// ---- protobuf: writer

/** A protobuf message being written: fields appended in order, proto3 defaults left out. */
export class PbWriter {
  private parts: Buffer[] = [];

  private static varint(v: bigint): Buffer {
    let x = BigInt.asUintN(64, v);
    const out: number[] = [];
    do {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      out.push(x ? b | 0x80 : b);
    } while (x);
    return Buffer.from(out);
  }

  private key(field: number, wire: number): void {
    this.parts.push(PbWriter.varint(BigInt((field << 3) | wire)));
  }

  /** A varint field (int32, int64, uint32, bool, enum). */
  int(field: number, v: number | bigint | boolean | undefined): this {
    const n = typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v ?? 0);
    if (n !== 0n) { this.key(field, 0); this.parts.push(PbWriter.varint(n)); }
    return this;
  }

  /** A length-delimited field: bytes, a string, or an embedded message (always written, also empty). */
  bytes(field: number, b: Buffer | string | PbWriter): this {
    const buf = b instanceof PbWriter ? b.finish() : typeof b === "string" ? Buffer.from(b, "utf8") : b;
    this.key(field, 2);
    this.parts.push(PbWriter.varint(BigInt(buf.length)), buf);
    return this;
  }

  /** A string field, left out when empty or absent. */
  str(field: number, s: string | undefined): this {
    return s ? this.bytes(field, s) : this;
  }

  /** A repeated string field. */
  strs(field: number, list: readonly string[] | undefined): this {
    for (const s of list ?? []) this.bytes(field, s);
    return this;
  }

  /** A map<string, string> field (repeated entries: key 1, value 2). */
  map(field: number, m: Readonly<Record<string, string>> | undefined): this {
    for (const [k, v] of Object.entries(m ?? {})) this.bytes(field, new PbWriter().str(1, k).str(2, v));
    return this;
  }

  /** An embedded message, left out when absent. */
  msg(field: number, m: PbWriter | undefined): this {
    return m ? this.bytes(field, m) : this;
  }

  /** The encoded message. */
  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// ---- protobuf: reader

/** A decoded message: every field number's values in order (varints as bigint, the rest as bytes). */
export type PbMessage = Map<number, (bigint | Buffer)[]>;

/** Decodes BUF into its fields; throws on a truncated or malformed message. */
export function pbDecode(buf: Buffer): PbMessage {
  const out: PbMessage = new Map();
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= buf.length || shift > 63n) throw new Error("protobuf: truncated varint");
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  const take = (n: number): Buffer => {
    if (at + n > buf.length) throw new Error("protobuf: truncated field");
    const b = buf.subarray(at, at + n);
    at += n;
    return b;
  };
  while (at < buf.length) {
    const k = varint();
    const field = Number(k >> 3n);
    let v: bigint | Buffer;
    switch (Number(k & 7n)) {
      case 0: v = varint(); break;
      case 1: v = take(8); break;
      case 2: v = take(Number(varint())); break;
      case 5: v = take(4); break;
      default: throw new Error(`protobuf: wire type ${k & 7n} of field ${field} not supported`);
    }
    const list = out.get(field);
    if (list) list.push(v); else out.set(field, [v]);
  }
  return out;
}

const last = (m: PbMessage, f: number) => m.get(f)?.at(-1);
/** Field F as a string ("" when absent). */
export const pbStr = (m: PbMessage, f: number): string => { const v = last(m, f); return Buffer.isBuffer(v) ? v.toString("utf8") : ""; };
/** Field F as raw bytes (empty when absent). */
export const pbBytes = (m: PbMessage, f: number): Buffer => { const v = last(m, f); return Buffer.isBuffer(v) ? v : Buffer.alloc(0); };
/** Field F as a signed 32-bit number (int32, enum; 0 when absent). */
export const pbInt32 = (m: PbMessage, f: number): number => { const v = last(m, f); return typeof v === "bigint" ? Number(BigInt.asIntN(32, v)) : 0; };
/** Field F as a signed 64-bit number (int64; 0n when absent). */
export const pbInt64 = (m: PbMessage, f: number): bigint => { const v = last(m, f); return typeof v === "bigint" ? BigInt.asIntN(64, v) : 0n; };
/** Field F as an embedded message (empty when absent). */
export const pbMsg = (m: PbMessage, f: number): PbMessage => pbDecode(pbBytes(m, f));
/** Field F as a map<string, string>. */
export const pbMap = (m: PbMessage, f: number): Record<string, string> =>
  Object.fromEntries((m.get(f) ?? []).filter(Buffer.isBuffer).map((e) => { const d = pbDecode(e); return [pbStr(d, 1), pbStr(d, 2)]; }));

// ---- gRPC

/** A gRPC call that ended with a non-zero grpc-status. */
export class GrpcError extends Error {
  constructor(readonly method: string, readonly code: number, readonly detail: string) {
    super(`${method}: grpc-status ${code}: ${detail}`);
  }
}

/** One gRPC unary call on SESSION: PATH (/package.Service/Method), the request's bytes; the
 * response's bytes, or a GrpcError. DEADLINE_MS cancels a call that never ends (not a timing check). */
export function grpcCall(session: ClientHttp2Session, path: string, request: Buffer, deadlineMs = 60_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(request.length, 1);
    request.copy(frame, 5);
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: path,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let detail = "";
    const take = (h: Record<string, unknown>) => {
      if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) {
        const m = String(h["grpc-message"]);
        try { detail = decodeURIComponent(m); } catch { detail = m; }
      }
    };
    const timer = setTimeout(() => { stream.close(constants.NGHTTP2_CANCEL); reject(new Error(`${path}: no answer within ${deadlineMs} ms`)); }, deadlineMs);
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", (e) => { clearTimeout(timer); reject(e); });
    stream.on("close", () => {
      clearTimeout(timer);
      if (status === undefined) return reject(new Error(`${path}: the stream ended without a grpc-status`));
      if (status !== "0") return reject(new GrpcError(path, Number(status), detail));
      const body = Buffer.concat(chunks);
      if (body.length < 5 || body.readUInt8(0) !== 0 || body.readUInt32BE(1) !== body.length - 5) {
        return reject(new Error(`${path}: a response that is not one uncompressed gRPC message (${body.length} bytes)`));
      }
      resolve(body.subarray(5));
    });
    stream.end(frame);
  });
}

// ---- CRI runtime.v1

/** A CRI NamespaceMode. */
export const NamespaceMode = { POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3 } as const;
/** A CRI ContainerState. */
export const ContainerState = { CREATED: 0, RUNNING: 1, EXITED: 2, UNKNOWN: 3 } as const;

export interface NamespaceOptions { network?: number; pid?: number; ipc?: number; targetId?: string }

/** The parts of a PodSandboxConfig the tests set. */
export interface PodConfig {
  name: string; uid: string; namespace: string; attempt?: number;
  hostname?: string; logDirectory?: string;
  labels?: Record<string, string>; annotations?: Record<string, string>;
  cgroupParent?: string; namespaces?: NamespaceOptions;
  /** LinuxPodSandboxConfig.sysctls (Kubernetes' securityContext.sysctls): the sandbox's linux.sysctl. */
  sysctls?: Record<string, string>;
}

/** The parts of LinuxContainerResources the tests set. */
export interface Resources { cpuPeriod?: number; cpuQuota?: number; cpuShares?: number; memoryLimit?: number; cpusetCpus?: string; memorySwapLimit?: number }

const resources = (r: Resources | undefined) => r && new PbWriter().int(1, r.cpuPeriod).int(2, r.cpuQuota).int(3, r.cpuShares).int(4, r.memoryLimit).str(6, r.cpusetCpus).int(10, r.memorySwapLimit);

/** The parts of a ContainerConfig the tests set. */
export interface ContainerConfig {
  name: string; attempt?: number; image: string;
  command?: string[]; args?: string[]; workingDir?: string; envs?: Record<string, string>;
  labels?: Record<string, string>; annotations?: Record<string, string>; logPath?: string;
  namespaces?: NamespaceOptions; readonlyRootfs?: boolean; resources?: Resources; runAsUser?: number; runAsGroup?: number;
}

export interface ContainerStatus { id: string; state: number; createdAt: bigint; startedAt: bigint; finishedAt: bigint; exitCode: number; reason: string; message: string; info: Record<string, string> }
export interface PodStatus { id: string; state: number; ip: string; info: Record<string, string> }

const nsOptions = (o: NamespaceOptions | undefined) => o && new PbWriter().int(1, o.network).int(2, o.pid).int(3, o.ipc).str(4, o.targetId);

function podConfig(c: PodConfig): PbWriter {
  const linux = new PbWriter().str(1, c.cgroupParent).msg(2, c.namespaces && new PbWriter().msg(1, nsOptions(c.namespaces))).map(3, c.sysctls);
  return new PbWriter()
    .msg(1, new PbWriter().str(1, c.name).str(2, c.uid).str(3, c.namespace).int(4, c.attempt))
    .str(2, c.hostname).str(3, c.logDirectory).map(6, c.labels).map(7, c.annotations).msg(8, linux);
}

function containerConfig(c: ContainerConfig): PbWriter {
  const int64Value = (v: number | undefined) => (v === undefined ? undefined : new PbWriter().int(1, v));
  const security = new PbWriter().msg(3, nsOptions(c.namespaces)).msg(5, int64Value(c.runAsUser)).int(7, c.readonlyRootfs).msg(12, int64Value(c.runAsGroup));
  const w = new PbWriter()
    .msg(1, new PbWriter().str(1, c.name).int(2, c.attempt))
    .msg(2, new PbWriter().str(1, c.image))
    .strs(3, c.command).strs(4, c.args).str(5, c.workingDir);
  for (const [k, v] of Object.entries(c.envs ?? {})) w.bytes(6, new PbWriter().str(1, k).str(2, v));
  return w.map(9, c.labels).map(10, c.annotations).str(11, c.logPath).msg(15, new PbWriter().msg(1, resources(c.resources)).msg(2, security));
}

/** A CRI runtime service client on a containerd socket (one HTTP/2 session). */
export class CriClient {
  private constructor(private readonly session: ClientHttp2Session, readonly deadlineMs: number) {}

  /** Connects to the gRPC server on the unix socket SOCK. */
  static async connect(sock: string, deadlineMs = 60_000): Promise<CriClient> {
    const session = connect("http://localhost", { createConnection: () => netConnect(sock) });
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    session.on("error", () => { /* reported by the call that meets it */ });
    return new CriClient(session, deadlineMs);
  }

  close(): void {
    this.session.close();
  }

  private async call(method: string, req: PbWriter): Promise<PbMessage> {
    return pbDecode(await grpcCall(this.session, `/runtime.v1.RuntimeService/${method}`, req.finish(), this.deadlineMs));
  }

  /** Version: the runtime's name and versions. */
  async version(): Promise<{ version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }> {
    const r = await this.call("Version", new PbWriter().str(1, "v1"));
    return { version: pbStr(r, 1), runtimeName: pbStr(r, 2), runtimeVersion: pbStr(r, 3), runtimeApiVersion: pbStr(r, 4) };
  }

  /** RunPodSandbox with the runtime handler HANDLER: the sandbox's id. */
  async runPodSandbox(config: PodConfig, handler: string): Promise<string> {
    return pbStr(await this.call("RunPodSandbox", new PbWriter().msg(1, podConfig(config)).str(2, handler)), 1);
  }

  async stopPodSandbox(id: string): Promise<void> { await this.call("StopPodSandbox", new PbWriter().str(1, id)); }
  async removePodSandbox(id: string): Promise<void> { await this.call("RemovePodSandbox", new PbWriter().str(1, id)); }

  /** PodSandboxStatus (verbose: info["info"] is containerd's JSON with the sandbox's pid and spec). */
  async podSandboxStatus(id: string): Promise<PodStatus> {
    const r = await this.call("PodSandboxStatus", new PbWriter().str(1, id).int(2, true));
    const s = pbMsg(r, 1);
    return { id: pbStr(s, 1), state: pbInt32(s, 3), ip: pbStr(pbMsg(s, 5), 1), info: pbMap(r, 2) };
  }

  /** ListPodSandbox without a filter: the ids. */
  async listPodSandbox(): Promise<string[]> {
    const r = await this.call("ListPodSandbox", new PbWriter());
    return (r.get(1) ?? []).filter(Buffer.isBuffer).map((b) => pbStr(pbDecode(b), 1));
  }

  /** CreateContainer in the sandbox POD (made from POD_CONFIG): the container's id. */
  async createContainer(pod: string, config: ContainerConfig, podConfigValue: PodConfig): Promise<string> {
    return pbStr(await this.call("CreateContainer", new PbWriter().str(1, pod).msg(2, containerConfig(config)).msg(3, podConfig(podConfigValue))), 1);
  }

  async startContainer(id: string): Promise<void> { await this.call("StartContainer", new PbWriter().str(1, id)); }
  /** StopContainer: TERM, then KILL after TIMEOUT seconds (0: KILL at once). */
  async stopContainer(id: string, timeout: number): Promise<void> { await this.call("StopContainer", new PbWriter().str(1, id).int(2, timeout)); }
  async removeContainer(id: string): Promise<void> { await this.call("RemoveContainer", new PbWriter().str(1, id)); }

  /** ContainerStatus (verbose: info["info"] is containerd's JSON with the pid and the OCI spec). */
  async containerStatus(id: string): Promise<ContainerStatus> {
    const r = await this.call("ContainerStatus", new PbWriter().str(1, id).int(2, true));
    const s = pbMsg(r, 1);
    return {
      id: pbStr(s, 1), state: pbInt32(s, 3), createdAt: pbInt64(s, 4), startedAt: pbInt64(s, 5), finishedAt: pbInt64(s, 6),
      exitCode: pbInt32(s, 7), reason: pbStr(s, 10), message: pbStr(s, 11), info: pbMap(r, 2),
    };
  }

  /** UpdateContainerResources: new Linux resources for a running container. */
  async updateContainerResources(id: string, r: Resources): Promise<void> {
    await this.call("UpdateContainerResources", new PbWriter().str(1, id).msg(2, resources(r)));
  }

  /** ContainerStats: cumulative CPU time (ns) and the memory working set (bytes), as containerd
   * reads them from the container's cgroups (undefined when it has no value). */
  async containerStats(id: string): Promise<{ cpuTimestamp: bigint; cpuNanoseconds?: bigint; memoryTimestamp: bigint; workingSetBytes?: bigint }> {
    const r = pbMsg(await this.call("ContainerStats", new PbWriter().str(1, id)), 1);
    const cpu = pbMsg(r, 2);
    const mem = pbMsg(r, 3);
    const value = (m: PbMessage, f: number) => (m.has(f) ? pbInt64(pbMsg(m, f), 1) : undefined);
    return { cpuTimestamp: pbInt64(cpu, 1), cpuNanoseconds: value(cpu, 2), memoryTimestamp: pbInt64(mem, 1), workingSetBytes: value(mem, 2) };
  }

  /** ExecSync: CMD run in the container, its output and exit code (TIMEOUT seconds, 0: none). */
  async execSync(id: string, cmd: string[], timeout = 0): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const r = await this.call("ExecSync", new PbWriter().str(1, id).strs(2, cmd).int(3, timeout));
    return { stdout: pbBytes(r, 1).toString("utf8"), stderr: pbBytes(r, 2).toString("utf8"), exitCode: pbInt32(r, 3) };
  }
}
