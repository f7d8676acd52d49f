#!/usr/bin/env bash
# Sets up what the tests need and runs them: scripts/test.sh [pytest options]
# System packages (the dataset, Chromium for the browser tests) come from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -n "${FASHION_MNIST_DIR:-}" ] || need+=(dataset-fashion-mnist)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)  # Chinese class names
if [ ${#need[@]} -gt 0 ]; then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -q || echo "apt-get update failed; installing from the existing package lists"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}"
fi
scripts/setup.sh requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
