#!/usr/bin/env bash
# Creates .venv in the checkout (once) and installs a requirements file into it (again
# only when that file changed). Usage: scripts/setup.sh requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
req=${1:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
fi
stamp=.venv/.installed-$(basename "$req")
if [ ! -f "$stamp" ] || [ -n "$(find requirements*.txt -newer "$stamp")" ]; then
  .venv/bin/pip install --quiet -r "$req"
  touch "$stamp"
fi
