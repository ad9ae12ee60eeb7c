// Entry point of the mkjail tool (bundled into build/bin/mkjail.mjs).
import { runTool } from "../main.js";
import { mkjailMain } from "../mkjail.js";
runTool("mkjail", mkjailMain);
