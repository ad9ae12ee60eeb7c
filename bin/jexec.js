#!/usr/bin/env node
// jexec: see docs/ and `jexec -h`. Runs the bundled tool (build/bin), built by npm install.
import { runTool } from "./run-tool.js";
await runTool("jexec");
