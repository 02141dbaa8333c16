#!/usr/bin/env bash
# Use hubgenome as someone who never saw this repository would: build the wheel, install it (not
# editable) into a fresh virtualenv, and from an empty directory run the demo, a build, the report
# and the dashboard's page tests against that install. `make test` runs this after pytest.
#
#   scripts/check_wheel.sh            # uses python3 and the pins in constraints.txt
#   KEEP=1 scripts/check_wheel.sh     # keep the temporary folder for a look afterwards
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d -t hubgenome-wheel-XXXXXX)"
if [[ -z "${KEEP:-}" ]]; then trap 'rm -rf "$work"' EXIT; else echo "keeping $work"; fi

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "build the wheel"
"$repo/.venv/bin/python" -m build --wheel --outdir "$work/dist" "$repo" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; exit 1; }
rm -rf "$repo/build"  # setuptools' scratch copy in the source tree (git-ignored)
wheel="$(ls "$work"/dist/hubgenome-*.whl)"
echo "$wheel"

step "install it into a fresh virtualenv"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade "pip>=24"
# pytest and playwright only to run the dashboard's page tests against the install below.
"$work/venv/bin/python" -m pip install --quiet -c "$repo/constraints.txt" "$wheel" pytest playwright 2>&1 \
  | { grep -v "^WARNING: Location .* is ignored" || true; }

mkdir "$work/empty"
cd "$work/empty"
export HUBGENOME_SHARED_DIR="${HUBGENOME_SHARED_DIR:-$(cd "$repo/.." && pwd)/shared}"

step "the install's top-level import names"
"$work/venv/bin/python" - "$wheel" <<'EOF'
import sys
import zipfile
from pathlib import Path

import hubgenome

names = {
    Path(name).parts[0].removesuffix(".py")
    for name in zipfile.ZipFile(sys.argv[1]).namelist()
    if not Path(name).parts[0].endswith((".dist-info", ".data"))
}
print("top-level import names:", sorted(names), "| hubgenome from", Path(hubgenome.__file__).parent)
assert names == {"hubgenome"}, f"the wheel installs {sorted(names)}, expected exactly ['hubgenome']"
assert "site-packages" in hubgenome.__file__, "hubgenome was imported from the checkout, not the install"
EOF

step "hubgenome demo --no-app (small)"
"$work/venv/bin/hubgenome" demo --no-app --models 600

step "hubgenome build"
"$work/venv/bin/hubgenome" --data-dir data/demo build

step "hubgenome report"
"$work/venv/bin/hubgenome" --data-dir data/demo report
ls data/demo/reports

step "the dashboard's page tests against the install"
# A copy of the tests, so the checkout is nowhere on sys.path: every hubgenome import is the wheel's.
cp -r "$repo/tests" "$work/empty/tests"
find "$work/empty/tests" -name __pycache__ -prune -exec rm -rf {} +
"$work/venv/bin/python" -m pytest -c "$repo/pyproject.toml" --rootdir "$work/empty" -q -p no:cacheprovider \
  tests/app

step "nothing written into the install location"
written="$(find "$work/venv" -path '*/hubgenome/dbt_project/*' \( -name target -o -name logs -o -name '*.msgpack' -o -name '*.duckdb' \) -print)"
if [[ -n "$written" ]]; then
  echo "hubgenome wrote into its install location:" >&2
  echo "$written" >&2
  exit 1
fi
echo "wheel check passed"
