// Entry point of the jexec tool (bundled into build/bin/jexec.mjs).
import { runTool } from "../main.js";
import { jexecMain } from "../jexec.js";
runTool("jexec", jexecMain);
