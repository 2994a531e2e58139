"""Benchmarks for pointcharge: the charge path against a bare I/O floor, and history at scale.

    python -m bench run        # charge matrix: SQLite/PostgreSQL x workers x concurrency, + floor
    python -m bench history    # history latency at 1k / 100k / 1M ledger entries
    python -m bench profile    # where the time goes in one charge (phase timers + py-spy)
    python -m bench report     # table + plot from the JSON results into docs/PERFORMANCE.md

Everything runs as separate processes on this machine (loopback only): the PortOne sandbox, the
API (``pointcharge serve``) or the floor (``bench/floor.py``), and the load generator
(``bench/loadgen.py``). See docs/PERFORMANCE.md.
"""
