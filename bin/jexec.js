#!/usr/bin/env node
// jexec: see docs/MANAGE.md and `jexec -h`. Runs the bundled tool (build/bin), built by npm install.
import "../build/bin/jexec.mjs";
