#!/usr/bin/env node
// sjls: see docs/ and `sjls -h`. Runs the bundled tool (build/bin), built by npm install.
import { runTool } from "./run-tool.js";
await runTool("sjls");
