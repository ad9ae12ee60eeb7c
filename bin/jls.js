#!/usr/bin/env node
// jls: see docs/ and `jls -h`. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("jls");
