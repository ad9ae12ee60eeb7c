#!/usr/bin/env node
// mkjail: see docs/MKJAIL.md and `mkjail -h`. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("mkjail");
