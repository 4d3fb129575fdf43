#!/usr/bin/env bash
# README command 1: install what the daemon needs, build it, and run the demo on the embedded
# SQLite default: a dirty CRM, a config, every job once, and where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/crm-hygiene demo --dir "${1:-crm-hygiene-demo}"
