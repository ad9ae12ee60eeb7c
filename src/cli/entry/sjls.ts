// Entry point of the sjls tool (bundled into build/bin/sjls.mjs).
import { runTool } from "../main.js";
import { sjlsMain } from "../sjls.js";
runTool("sjls", sjlsMain);
