// Entry point of the jail tool (bundled into build/bin/jail.mjs).
import { runTool } from "../main.js";
import { jailMain } from "../jail.js";
runTool("jail", jailMain);
