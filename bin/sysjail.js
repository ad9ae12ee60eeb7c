#!/usr/bin/env node
// sysjail: see docs/ and `sysjail -h`. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("sysjail");
