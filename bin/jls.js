#!/usr/bin/env node
// jls: see docs/MANAGE.md and `jls --help`. Runs the bundled tool (build/bin), built by npm install.
import "../build/bin/jls.mjs";
