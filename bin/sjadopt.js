#!/usr/bin/env node
// sjadopt: see docs/JAILS.md and `sjadopt -h`. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("sjadopt");
