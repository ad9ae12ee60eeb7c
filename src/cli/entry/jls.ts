// Entry point of the jls tool (bundled into build/bin/jls.mjs).
import { runTool } from "../main.js";
import { jlsMain } from "../jls.js";
runTool("jls", jlsMain);
