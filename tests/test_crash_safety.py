"""An ingest killed with SIGKILL at any moment leaves a consistent base; a re-run
completes it and equals a clean run (tests/crash_support.py; bench/crash.py runs the
same campaign with many more kills)."""

from __future__ import annotations

from crash_support import campaign


def test_kill_9_during_ingest_leaves_the_base_consistent_and_a_rerun_completes_it(tmp_path):
    assert campaign(tmp_path, kills=4, documents=16, seed=12) == []
