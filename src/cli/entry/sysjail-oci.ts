// Entry point of the sysjail-oci tool (bundled into build/bin/sysjail-oci.mjs).
import { runTool } from "../main.js";
import { ociMain } from "../oci.js";
runTool("sysjail-oci", ociMain);
