#!/usr/bin/env bash
# Renders the HTML pages guardrailc writes in headless Chromium and fails on console errors
# or an empty page. CI runs it after installing Debian's chromium (see .ci/run).
# Usage: scripts/check-html.sh PATH/TO/guardrailc
set -euo pipefail
bin=${1:?usage: check-html.sh GUARDRAILC_BINARY}
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "check-html: chromium is not installed" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GUARDRAILC_TODAY=2026-11-28
"$bin" docs examples/rollout --format html --out "$work/rollout.html"
"$bin" docs examples/quickstart --format html --out "$work/quickstart.html"
# The impact report: check exits 1 because prod would deny some objects; the page is written.
"$bin" check --project examples/rollout --env prod --format html examples/rollout/cluster-export.yaml > "$work/impact.html" || true
status=0
for page in "$work"/*.html; do
  flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
         --disable-background-networking --disable-component-update --disable-sync
         --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
  dom=$("$chromium" "${flags[@]}" --dump-dom "file://$page" 2>"$work/log.txt" || true)
  if grep -E 'CONSOLE|Uncaught|Failed to load resource' "$work/log.txt" >/dev/null; then
    echo "check-html: console errors on $(basename "$page"):" >&2
    grep -E 'CONSOLE|Uncaught|Failed to load resource' "$work/log.txt" >&2
    status=1
  fi
  rows=$(grep -o '<section class="card"\|<tr><td class="v-' <<<"$dom" | wc -l)
  if [ "$rows" -eq 0 ]; then
    echo "check-html: $(basename "$page") rendered no guardrails or findings" >&2
    status=1
  else
    echo "check-html: $(basename "$page") rendered $rows guardrails or findings, no console errors"
  fi
done
exit $status
