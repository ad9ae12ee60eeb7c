#!/usr/bin/env node
// jail(8): FreeBSD's jail command.
import { runTool } from "../build/src/cli/main.js";
import { jailMain } from "../build/src/cli/jail.js";
runTool("jail", jailMain);
