"""Free cores: the count of running tasks against the process's cores and quota."""

import os

import pytest

from kb import cores


@pytest.fixture
def loadavg(tmp_path, monkeypatch):
    path = tmp_path / "loadavg"
    monkeypatch.setattr(cores, "LOADAVG", path)
    return path


@pytest.mark.parametrize(
    ("running", "of", "free"),
    [(1, 2, 2), (2, 2, 1), (5, 2, 1), (1, 8, 8), (3, 8, 6), (1, 1, 1)],
)
def test_free_cores_are_those_no_other_task_runs_on(loadavg, running, of, free):
    loadavg.write_text(f"0.52 0.61 0.70 {running}/412 12345\n")
    assert cores.free_cores(of) == free


@pytest.mark.parametrize("content", [None, "", "garbage", "0.1 0.2 0.3 x/y 1"])
def test_one_core_when_it_cannot_be_told(loadavg, content):
    if content is not None:
        loadavg.write_text(content)
    assert cores.free_cores(2) == 1


def test_cores_keep_within_the_cgroup_quota(tmp_path, monkeypatch):
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    monkeypatch.setattr(cores, "CPU_MAX", cpu_max)
    assert cores.cores() == affinity  # no cgroup file
    cpu_max.write_text("max 100000\n")
    assert cores.cores() == affinity
    cpu_max.write_text("50000 100000\n")  # half a core
    assert cores.cores() == 1
    cpu_max.write_text(f"{100000 * (affinity + 4)} 100000\n")  # more than it may run on
    assert cores.cores() == affinity
