#!/usr/bin/env node
// sjtest: sysjail's self-test (docs/JAILS.md, "sjtest"; `sjtest -h`). A plain Node tool: it
// loads tsc's output (build/src/sjtest), built by npm install.
"use strict";
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");
import(pathToFileURL(join(__dirname, "..", "build", "src", "sjtest", "entry.js")).href).catch((err) => {
  process.stderr.write(`sjtest: cannot load the built tool (run npm install): ${err.message}\n`);
  process.exitCode = 70;
});
