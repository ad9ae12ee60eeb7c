#!/usr/bin/env node
// jail: see docs/ and `jail -h`. Runs the bundled tool (build/bin), built by npm install.
import { runTool } from "./run-tool.js";
await runTool("jail");
