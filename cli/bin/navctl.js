#!/usr/bin/env node
// navctl entry point (committed so npm can link it before the first build).
import "../dist/main.js";
