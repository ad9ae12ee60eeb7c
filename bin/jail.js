#!/usr/bin/env node
// jail: see docs/ and `jail -h`. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("jail");
