#!/usr/bin/env bash
# Root causes: what attribution costs the report, and what it finds. Reproduce with:
#   bash benches/roots.sh [BEFORE_COMMIT]
# BEFORE_COMMIT (default 836d3c7, the last commit without root causes) is built in a
# temporary git worktree with the same target directory (only this crate recompiles),
# then this tree is rebuilt. Both binaries report on the same four seeded seasons under
# hyperfine (installed with `cargo install hyperfine@1.20.0 --locked` if missing). The
# section between the markers of BENCHMARKS.md is rewritten.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
before_commit="${1:-836d3c7}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/phase4-check/target}"
export CC="${CC:-ccache gcc}" CXX="${CXX:-ccache g++}"
command -v hyperfine >/dev/null || cargo install hyperfine@1.20.0 --locked
WORK=$(mktemp -d)
cleanup() {
  git -C "$root" worktree remove --force "$WORK/before-src" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

git worktree add --detach --force "$WORK/before-src" "$before_commit" >/dev/null 2>&1
(cd "$WORK/before-src" && cargo build --release --quiet)
cp "$CARGO_TARGET_DIR/release/phase4-check" "$WORK/before"
cargo build --release --quiet
cp "$CARGO_TARGET_DIR/release/phase4-check" "$WORK/after"

seasons=2021-22,2022-23,2023-24,2024-25
cd "$WORK"
./after --warehouse duckdb:four.duckdb seed --seasons "$seasons" > /dev/null
./after --warehouse duckdb:one.duckdb seed > /dev/null
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
q_before=$(./before --warehouse duckdb:four.duckdb report --format json | json "d['queries']" || true)
q_after=$(./after --warehouse duckdb:four.duckdb report --format json | json "d['queries']" || true)
q_explain=$(./after --warehouse duckdb:four.duckdb explain --processor ml --date 2021-12-04 --format json | json "d['queries']" || true)
hyperfine --warmup 1 --runs 10 -i --export-json times.json \
  -n before "./before --warehouse duckdb:four.duckdb report --format json" \
  -n after "./after --warehouse duckdb:four.duckdb report --format json" \
  -n explain "./after --warehouse duckdb:four.duckdb explain --processor ml --date 2021-12-04 --format json" \
  > /dev/null
./after --warehouse duckdb:one.duckdb report --format json > one.json || true

section=$(python3 - "$q_before" "$q_after" "$q_explain" <<'PY'
import json, sys
t = {r["command"]: r for r in json.load(open("times.json"))["results"]}
def cell(name):
    r = t[name]
    return f"{r['mean']:.3f} ± {r['stddev']:.3f}", f"{r['min']:.3f}"
one = json.load(open("one.json"))
roots = one["roots"]
dates = one["dates"]
consequences = [d for d in dates if d["cause"] is not None]
lines = [
    "## Root causes: the report before and after (four seeded seasons, 2021-22..2024-25)",
    "",
    "| binary | queries | wall, mean ± sd (s) | min (s) |",
    "|---|---|---|---|",
]
for name, q in (("before", sys.argv[1]), ("after", sys.argv[2])):
    mean, low = cell(name)
    lines.append(f"| {name} | {q} | {mean} | {low} |")
mean, low = cell("explain")
lines.append(f"| `explain --processor ml --date 2021-12-04` | {sys.argv[3]} | {mean} | {low} |")
lines += [
    "",
    f"hyperfine, 1 warm-up and 10 runs each. On the default seed (2021-22): {len(roots)} roots "
    f"explain {len(dates)} defective dates; {len(consequences)} are consequences:",
    "",
]
for r in roots:
    if r["consequences"]:
        names = ", ".join(x["processor"] for x in r["explains"])
        lines.append(f"- {r['processor']} {r['date']} {r['kind']} -> {names}")
print("\n".join(lines))
PY
)
cd "$root"
python3 - "$section" <<'PY'
import sys
path = "BENCHMARKS.md"
text = open(path).read()
start, end = "<!-- roots: bash benches/roots.sh -->", "<!-- /roots -->"
block = f"{start}\n{sys.argv[1]}\n{end}"
if start in text:
    head, rest = text.split(start, 1)
    text = head + block + rest.split(end, 1)[1]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
PY
echo "BENCHMARKS.md: root causes section written"
