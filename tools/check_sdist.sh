#!/usr/bin/env bash
# Build the sdist and wheel from a clean export of HEAD, refuse any build warning, then install the unpacked
# sdist with its test extra into a fresh virtual environment and run its tests there.
# Usage: tools/check_sdist.sh [PYTHON [PIP-INSTALL-OPTIONS...]]   e.g. tools/check_sdist.sh python3 -c "$PWD/c.txt"
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive --format=tar HEAD | tar -x -C "$work" --one-top-level=src
"$python" -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install --quiet build
# PYTHONDONTWRITEBYTECODE makes setuptools say "byte-compiling is disabled": an environment note, not ours
(cd "$work/src" && env -u PYTHONDONTWRITEBYTECODE "$work/build-venv/bin/python" -m build --outdir "$work/dist" \
    >"$work/build.log" 2>&1) || { cat "$work/build.log"; exit 1; }
if grep -i "warning" "$work/build.log"; then
    echo "check_sdist: the build printed warnings (above)" >&2
    exit 1
fi
echo "built: $(cd "$work/dist" && ls)"
mkdir "$work/unpacked"
tar -xzf "$work"/dist/*.tar.gz -C "$work/unpacked"
sdist=$(echo "$work"/unpacked/*)
"$python" -m venv "$work/test-venv"
(cd "$sdist" && "$work/test-venv/bin/python" -m pip install --quiet "$@" '.[test]' && "$work/test-venv/bin/python" -m pytest -p no:cacheprovider -q -m "not slow")
