"""Starts bqemulator for the tests, with two harness fixes; everything else is
bqemulator's own `bqemulator start`.

- DuckDB's spatial extension is best-effort: it is fetched from the network at start-up,
  which CI machines lack, and the warehouse contract has no GEOGRAPHY.
- Its HTTP requests are answered one at a time: bqemulator 1.4.0 runs every request on
  one DuckDB connection, and two that overlap (a read beside a DML statement: two
  operators' runners, a heartbeat) fail with "connection is busy with another call".
  BigQuery answers them side by side; the tests that need overlap use the fake server.
"""
import asyncio
import sys
from bqemulator import server
from bqemulator.storage import engine

_load = engine.DuckDBEngine._load_spatial

def _best_effort(self):
    try:
        _load(self)
    except Exception as exc:  # offline: no GEOGRAPHY, which the contract has none of
        print(f"bqemulator: spatial extension unavailable ({type(exc).__name__}); going on", file=sys.stderr)

engine.DuckDBEngine._load_spatial = _best_effort

_create_app = server.create_app


def _one_request_at_a_time(context):
    app = _create_app(context)
    lock = asyncio.Lock()

    async def serialised(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        async with lock:
            await app(scope, receive, send)

    return serialised


server.create_app = _one_request_at_a_time

from bqemulator.cli import main
sys.exit(main())
