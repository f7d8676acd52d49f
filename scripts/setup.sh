#!/usr/bin/env bash
# Creates .venv in the checkout (once), installs a requirements file into it and the project
# itself, editable (`pip install -e .`: the `softmax-studio` command, `import model` anywhere),
# again only when those files changed. Usage: scripts/setup.sh requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
req=${1:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
fi
stamp=.venv/.installed-$(basename "$req")
if [ ! -f "$stamp" ] || [ -n "$(find requirements*.txt pyproject.toml -newer "$stamp")" ]; then
  .venv/bin/pip install --quiet -r "$req"
  .venv/bin/pip install --quiet --no-deps -e .
  touch "$stamp"
fi
