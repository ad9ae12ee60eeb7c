// Entry point of the sjtest tool (bin/sjtest.js loads it): one line per error, no stack trace.
import { runTool } from "../cli/main.js";
import { sjtestMain } from "./main.js";
runTool("sjtest", sjtestMain);
