// Entry point of the sysjail tool (bundled into build/bin/sysjail.mjs).
import { runTool } from "../main.js";
import { sysjailMain } from "../sysjail.js";
runTool("sysjail", sysjailMain);
