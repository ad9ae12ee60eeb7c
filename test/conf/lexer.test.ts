// Tests: jail.conf tokenizer: words, quoting, escapes, variables, comments, positions and lexical errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Lexer, type Token } from "../../src/conf/index.js";
import { throwsConf } from "./helpers.js";

function lex(text: string): Token[] {
  const l = new Lexer(text, "t.conf");
  const out: Token[] = [];
  for (;;) {
    const t = l.next();
    out.push(t);
    if (t.type === "eof") return out;
  }
}

/** Each token as a short string: punctuation as is, words as their pieces. */
function show(text: string): string[] {
  return lex(text).map((t) => {
    if (t.type !== "word") return t.type;
    return t.word.pieces.map((p) => (p.kind === "text" ? JSON.stringify(p.text) : `$(${p.name})`)).join("+");
  });
}

test("punctuation, bare words and +=", () => {
  assert.deepEqual(show("ip4.addr += 10.0.0.1, 10.0.0.2;"), ['"ip4.addr"', "+=", '"10.0.0.1"', ",", '"10.0.0.2"', ";", "eof"]);
  assert.deepEqual(show("web{persist;}"), ['"web"', "{", '"persist"', ";", "}", "eof"]);
  assert.deepEqual(show("a+b=c"), ['"a+b"', "=", '"c"', "eof"]);
  assert.deepEqual(show("x+=y"), ['"x"', "+=", '"y"', "eof"]);
  assert.deepEqual(show("path = /usr/local/jails;"), ['"path"', "=", '"/usr/local/jails"', ";", "eof"]);
});

test("comments in all three styles, between tokens", () => {
  assert.deepEqual(show("a # shell\nb // c++\nc /* c\n multi */ d"), ['"a"', '"b"', '"c"', '"d"', "eof"]);
  assert.deepEqual(show("a;#x\nb"), ['"a"', ";", '"b"', "eof"]);
  assert.deepEqual(show("foo#bar"), ['"foo"', "eof"]);
});

test("comment markers inside a word are part of it", () => {
  assert.deepEqual(show(".include /etc/jail.conf.d/*.conf;"), ['".include"', '"/etc/jail.conf.d/*.conf"', ";", "eof"]);
});

test("quoted strings, escapes and adjacency", () => {
  assert.deepEqual(show(`"a b" 'c;d' "x"'y'z`), ['"a b"', '"c;d"', '"xyz"', "eof"]);
  assert.deepEqual(show(`"tab\\there" '\\101\\x42\\n' \\;`), [JSON.stringify("tab\there"), JSON.stringify("AB\n"), '";"', "eof"]);
  assert.deepEqual(show(`"line \\\ncontinued"`), ['"line continued"', "eof"]);
  assert.deepEqual(show(`"" ''`), ['""', '""', "eof"]);
  const t = lex(`"" x`)[0]!;
  assert.ok(t.type === "word" && t.word.quoted);
});

test("variables: $name and ${name}, not in single quotes", () => {
  assert.deepEqual(show(`"/var/jail/$name" /j/\${host.hostname}/x '$name'`), [
    '"/var/jail/"+$(name)',
    '"/j/"+$(host.hostname)+"/x"',
    '"$name"',
    "eof",
  ]);
  assert.deepEqual(show(`$parentdir = "$a$b";`), ["$(parentdir)", "=", '""+$(a)+$(b)', ";", "eof"]);
  assert.deepEqual(show(`"cost: $5 \\$HOME"`), ['"cost: $5 $HOME"', "eof"]);
});

test("positions are 1-based line and column", () => {
  const toks = lex("a {\n  b = \"c\";\n}");
  assert.deepEqual(toks.map((t) => [t.raw, t.pos.line, t.pos.col]), [
    ["a", 1, 1],
    ["{", 1, 3],
    ["b", 2, 3],
    ["=", 2, 5],
    ['"c"', 2, 7],
    [";", 2, 10],
    ["}", 3, 1],
    ["EOF", 3, 2],
  ]);
});

test("lexical errors give file:line:column and the token", () => {
  throwsConf(() => lex(`a = "never closed;\nb;`), `t.conf:1:5: unterminated string near '"never closed;'`);
  throwsConf(() => lex(`a = 'open`), `t.conf:1:5: unterminated string near ''open'`);
  throwsConf(() => lex(`x;\n/* no end`), "t.conf:2:1: unterminated comment near '/* no end'");
  throwsConf(() => lex(`a = \${name;`), "t.conf:1:5: unterminated variable near '${name;'");
  throwsConf(() => lex(`a = "\${x"`), `t.conf:1:6: unterminated variable near '\${x'`);
  throwsConf(() => lex(`a = \${};`), "t.conf:1:5: empty variable name near '${}'");
  throwsConf(() => lex(`a = b\\`), "t.conf:1:6: backslash at end of file near '\\'");
  throwsConf(() => lex(`a = b\x01;`), "t.conf:1:6: unexpected control character near '\\x01'");
});
