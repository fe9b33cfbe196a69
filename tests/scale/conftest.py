"""A real local Ray cluster for the scale tests: ``ray start --head`` on 127.0.0.1 with 2 CPUs,
started once per session and stopped at the end. Skips when Ray (the ``scale`` extra) is missing,
except in CI, where it fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def head_command(ray_bin: Path, temp: Path, num_cpus: int = 2) -> tuple[list[str], str]:
    """``ray start --head --block`` on 127.0.0.1 with every port chosen free, so that two clusters
    (two test sessions, a benchmark) can run on one machine side by side; and its address."""
    ports = {flag: _free_port() for flag in ("port", "dashboard-port", "node-manager-port",
                                             "object-manager-port", "metrics-export-port", "runtime-env-agent-port",
                                             "dashboard-agent-grpc-port", "dashboard-agent-listen-port")}
    low = _free_port() // 100 * 100 % 40000 + 20000  # a block of worker ports unlikely to clash
    cmd = [str(ray_bin), "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--num-cpus={num_cpus}",
           "--num-gpus=0", "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
           f"--min-worker-port={low}", f"--max-worker-port={low + 99}", *(f"--{k}={v}" for k, v in ports.items())]
    return cmd, f"127.0.0.1:{ports['port']}"


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory) -> str:
    """The address of a running 2-CPU Ray head on 127.0.0.1; this process is connected to it."""
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI needs Ray for the scale tests: pip install 'celm[scale]'")
        pytest.skip("Ray is not installed (pip install 'celm[scale]')")
    ray_bin = Path(sys.executable).with_name("ray")
    temp = tmp_path_factory.mktemp("ray")
    # Ray's token authentication keeps one token per machine (~/.ray): two clusters started side by
    # side (two test sessions) would lock each other's drivers out. This cluster listens for tests
    # only and stops with them, so it runs without; docs/scale.md says how real clusters keep it.
    os.environ["RAY_AUTH_MODE"] = "disabled"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    cmd, address = head_command(ray_bin, temp)
    # --block keeps `ray start` in the foreground: terminating it stops this cluster's processes
    # only (`ray stop` would stop every Ray on the machine, another test session's too).
    log = open(temp / "head.log", "w")
    head = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        from celm.scale.cluster import connect

        for attempt in range(60):
            if head.poll() is not None:
                pytest.fail(f"ray start --head exited ({head.returncode}):\n{(temp / 'head.log').read_text()[-3000:]}")
            if "Ray runtime started" in (temp / "head.log").read_text():
                break
            time.sleep(1)
        connect(address)
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        log.close()
