// Tests: jail(8) command-line parameter forms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatParamArgs, parseLegacyArgs, parseParamArgs, resolveParams } from "../../src/conf/index.js";
import { throwsConf } from "./helpers.js";

const short = (argv: string[]) => parseParamArgs(argv).map((a) => [a.name, a.op, a.values]);

test("param=value, valueless booleans, += and splitting of address lists", () => {
  assert.deepEqual(short(["name=web", "persist", "nopersist", "ip4.addr=10.0.0.1,10.0.0.2", "ip6.addr=", "mount=/a /b nullfs ro,nosuid 0 0", "meta.k=a=b", "x+=y"]), [
    ["name", "=", ["web"]],
    ["persist", "none", []],
    ["nopersist", "none", []],
    ["ip4.addr", "=", ["10.0.0.1", "10.0.0.2"]],
    ["ip6.addr", "=", []],
    ["mount", "=", ["/a /b nullfs ro,nosuid 0 0"]],
    ["meta.k", "=", ["a=b"]],
    ["x", "+=", ["y"]],
  ]);
});

test("command= takes the rest of the arguments as its argv", () => {
  const args = parseParamArgs(["jid=101", "name=jail101", "command=/bin/sh", "--", "-c", "/etc/init.d/rc S && /etc/init.d/rc 2", "persist"]);
  assert.deepEqual(args.map((a) => a.name), ["jid", "name", "command"]);
  assert.deepEqual(args[2]!.values, ["/bin/sh", "--", "-c", "/etc/init.d/rc S && /etc/init.d/rc 2", "persist"]);
  assert.deepEqual(parseParamArgs(["command", "/bin/echo", "hi"])[0]!.values, ["/bin/echo", "hi"]);
});

test("positions are command-line argument numbers", () => {
  const a = parseParamArgs(["a=1", "b=2"]);
  assert.deepEqual(a[1]!.pos, { file: "command line", line: 1, col: 1, arg: 2 });
});

test("command-line errors", () => {
  throwsConf(() => parseParamArgs(["name=x", "=value"]), "command line argument 2: missing parameter name near '=value'");
  throwsConf(() => parseParamArgs(["na me=x"]), "command line argument 1: invalid parameter name near 'na me=x'");
  throwsConf(() => parseParamArgs(["command="]), "command line argument 1: command needs a program to run near 'command='");
  throwsConf(() => parseParamArgs(["persist", "command"]), "command line argument 2: command needs a program to run near 'command'");
});

test("the old form: path hostname ip[,ip] command ...", () => {
  const a = parseLegacyArgs(["/jails/a", "a.example", "10.0.0.1,::1,fd00::2", "/bin/sh", "-c", "echo hi"]);
  assert.deepEqual(a.map((x) => [x.name, x.values]), [
    ["path", ["/jails/a"]],
    ["host.hostname", ["a.example"]],
    ["ip4.addr", ["10.0.0.1"]],
    ["ip6.addr", ["::1", "fd00::2"]],
    ["command", ["/bin/sh", "-c", "echo hi"]],
  ]);
  assert.deepEqual(parseLegacyArgs(["/r", "lg", "-", "/probe", "hostname"]).map((x) => x.name), ["path", "host.hostname", "command"]);
  throwsConf(() => parseLegacyArgs(["/r", "h", "-"]), "command line argument 3: expected: path hostname ip[,ip...] command ... near '/r h -'");
});

test("formatParamArgs turns a parameter set back into arguments that parse to the same set", () => {
  const argv = ["name=web", "persist", "allow.noraw_sockets", "ip4.addr=10.0.0.1,10.0.0.2", "mount=/a /jails/a nullfs ro 0 0",
    "mount=/b /jails/b nullfs ro 0 0", "meta=tag=blue", "exec.start=", "path=/jails", "command=/bin/sh", "-c", "echo a, b"];
  const p1 = resolveParams(parseParamArgs(argv)).params;
  const back = formatParamArgs(p1);
  assert.deepEqual(back, argv);
  assert.deepEqual(resolveParams(parseParamArgs(back)).params, p1);
  assert.deepEqual(formatParamArgs({ "ip4.addr": [], depend: ["a,b", "c"] }), ["ip4.addr=", "depend=a,b", "depend=c"]);
});
