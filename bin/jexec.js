#!/usr/bin/env node
// jexec: see docs/ and `jexec -h`. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("jexec");
