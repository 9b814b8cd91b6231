#!/usr/bin/env node
// The node agent on its own (one per worker machine).
import "../dist/main.js";
