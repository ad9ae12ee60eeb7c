#!/usr/bin/env node
// sjls: see docs/ and `sjls -h`. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("sjls");
