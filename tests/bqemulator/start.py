"""Starts bqemulator for the tests, with DuckDB's spatial extension best-effort: it is
fetched from the network at start-up, which CI machines lack, and the warehouse contract
has no GEOGRAPHY. Everything else is bqemulator's own `bqemulator start`.
"""
import sys
from bqemulator.storage import engine

_load = engine.DuckDBEngine._load_spatial

def _best_effort(self):
    try:
        _load(self)
    except Exception as exc:  # offline: no GEOGRAPHY, which the contract has none of
        print(f"bqemulator: spatial extension unavailable ({type(exc).__name__}); going on", file=sys.stderr)

engine.DuckDBEngine._load_spatial = _best_effort

from bqemulator.cli import main
sys.exit(main())
