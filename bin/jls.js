#!/usr/bin/env node
// jls: see docs/ and `jls -h`. Runs the bundled tool (build/bin), built by npm install.
import { runTool } from "./run-tool.js";
await runTool("jls");
