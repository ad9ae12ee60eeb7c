#!/usr/bin/env node
// sjls: see docs/MANAGE.md and `sjls -h`. Runs the bundled tool (build/bin), built by npm install.
import "../build/bin/sjls.mjs";
