#!/usr/bin/env node
// jail: see docs/ and `jail -h`. Runs the bundled tool (build/bin), built by npm install.
import "../build/bin/jail.mjs";
