"""What the tests, the benchmarks and the walk-through scripts share to run the product's real
parts on one machine: free ports, child processes started and stopped cleanly, throwaway
PostgreSQL databases, private Redis servers, the Microsoft simulator as a process, a browser at
Microsoft's sign-in pages, an SMTP catcher, and the settings a test app and its workers use.

Nothing here imports pytest or the tests; `tests/`, `bench/` and `scripts/` import from here.
"""
