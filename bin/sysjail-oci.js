#!/usr/bin/env node
// sysjail-oci: an OCI runtime, see docs/OCI.md. Runs the bundled tool (build/bin), built by npm install.
"use strict";
require("./run-tool.js").runTool("sysjail-oci");
