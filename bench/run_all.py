"""``make bench``: every benchmark in turn, each printing its figures against its own floor.

    python -m bench.run_all [--quick]

``--quick`` runs them at 20k items instead of 100k (minutes instead of most of an hour on
2 cores). Run on a quiet machine: every figure is a ratio against a floor measured in the
same run, but other load still moves both.
"""

from __future__ import annotations

import subprocess
import sys


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    n = "20000" if quick else "100000"
    runs = [
        ["bench.bench_analyzers"],
        ["bench.bench_indexer", "--events", n],
        ["bench.bench_api", "--products", n, "--keep-index"],
        ["bench.bench_suggest", "--products", n, "--keep-index"],  # bench_api's index
        ["bench.bench_distinct", "--products", n, "--keep-index"],  # the same index
        ["bench.bench_recovery", "--products", n, "--keep-index"],  # the same index
        ["bench.bench_browse", "--products", n],  # the same index, then deletes it
        ["bench.bench_live", "--products", n],  # its own index: it writes to it
        ["bench.bench_reindex", "--products", n, "--clients", "0"],
        ["bench.bench_reindex", "--products", n],
        ["bench.bench_cpu_share", "--docs", "10000" if quick else "30000"],
    ]
    failed = 0
    for run in runs:
        print(f"\n=== python -m {' '.join(run)}", flush=True)
        failed += subprocess.run([sys.executable, "-m", *run]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
