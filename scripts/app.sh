#!/usr/bin/env bash
# Sets up .venv and starts the app: scripts/app.sh [streamlit options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
