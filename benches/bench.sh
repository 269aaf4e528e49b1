#!/usr/bin/env bash
# Benchmarks of phase4-check, written to BENCHMARKS.md (examples/bench.rs says what each
# measures). Reproduce with:
#   bash benches/bench.sh
# Release build, the same target directory and compilers as CI; temporary directories only.
# About 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/phase4-check/target}"
export CC="${CC:-ccache gcc}" CXX="${CXX:-ccache g++}"
cargo build --release --quiet --bins --example bench
"$CARGO_TARGET_DIR/release/examples/bench" --out BENCHMARKS.md
