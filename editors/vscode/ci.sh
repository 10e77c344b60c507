#!/usr/bin/env bash
# Builds the VS Code extension and tests its grammar on the sample files. Called from .ci/run.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
npm run --silent test:grammar
# Packaging needs only the npm registry; a failure here is reported, not fatal, because the
# .vsix is a convenience and the build and grammar checks above are the gate.
if npm run --silent package >/dev/null 2>&1; then
  echo "packaged editors/vscode/guardrailc.vsix"
else
  echo "warning: vsce could not package the extension" >&2
fi
