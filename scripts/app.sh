#!/usr/bin/env bash
# Sets up .venv and starts the app: scripts/app.sh [streamlit options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
# Streamlit runs each script run and training in its own thread; uncapped, glibc gives them
# their own malloc arenas and memory grows with every session (bench/memory.py).
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
exec .venv/bin/streamlit run app.py "$@"
