#!/usr/bin/env node
// sysjail(1): runs a command in a new jail.
import { runTool } from "../build/src/cli/main.js";
import { sysjailMain } from "../build/src/cli/sysjail.js";
runTool("sysjail", sysjailMain);
