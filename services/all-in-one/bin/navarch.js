#!/usr/bin/env node
// The all-in-one control plane (npm start).
import "../dist/main.js";
