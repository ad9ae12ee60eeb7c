// Entry point of the sjadopt tool (bundled into build/bin/sjadopt.mjs).
import { runTool } from "../main.js";
import { sjadoptMain } from "../sjadopt.js";
runTool("sjadopt", sjadoptMain);
