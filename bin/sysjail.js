#!/usr/bin/env node
// sysjail: see docs/ and `sysjail -h`. Runs the bundled tool (build/bin), built by npm install.
import { runTool } from "./run-tool.js";
await runTool("sysjail");
