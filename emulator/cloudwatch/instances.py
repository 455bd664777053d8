"""CPU and memory of the real model-server processes behind each endpoint variant, sampled
into the UtilizationStore as each instance's CPUUtilization and MemoryUtilization.

A local instance is one model server's process group: the `python -m serving` supervisor and
every worker it started (its descendants), as an AWS instance is the containers on it. Its
CPUUtilization is the sum over those processes of each one's CPU time per wall second (x100),
which is the sum of each core's utilization that SageMaker publishes: a group keeping both
cores of a 2-core machine busy reads 200%. Its vCPUs are the cores this emulator may run on
(`os.sched_getaffinity`), as the servers inherit them: the range is 0 to 100 x vCPUs, the
same whatever instance type the endpoint config names. MemoryUtilization is the group's
resident memory over the machine's total (RSS counts pages the workers share once each: an
upper bound).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from emulator.clock import Clock
from emulator.cloudwatch.utilization import UtilizationSample, UtilizationStore

log = logging.getLogger("rtb_mlops.emulator")


def local_vcpus() -> int:
    """The vCPUs of a local instance: the cores its processes may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return psutil.cpu_count() or 1


@dataclass(frozen=True)
class LocalInstance:
    endpoint: str
    variant: str
    pid: int  # the model server's supervisor: its descendants are the workers

    @property
    def instance_id(self) -> str:
        return f"local-{self.pid}"


@dataclass(frozen=True)
class Usage:
    cpu_percent: float
    memory_percent: float


class ProcessGroups:
    """CPU since the last look and resident memory of a process and its descendants. psutil
    measures a process's CPU between two calls on the same object, so the objects are kept."""

    def __init__(self) -> None:
        self._known: dict[int, psutil.Process] = {}
        self._memory_total = psutil.virtual_memory().total

    def _member(self, proc: psutil.Process) -> tuple[psutil.Process, bool]:
        """The kept object for this process (same pid and start time), and whether it is new."""
        kept = self._known.get(proc.pid)
        if kept is not None and kept.is_running():
            return kept, False
        self._known[proc.pid] = proc
        return proc, True

    def measure(self, pid: int) -> Usage | None:
        """None for a group first seen now (its CPU has no interval yet) or one that is gone."""
        try:
            root, root_new = self._member(psutil.Process(pid))
            members = [root, *(self._member(c)[0] for c in root.children(recursive=True))]
            cpu = memory = 0.0
            for proc in members:
                # A new member's first reading is 0.0 by psutil's definition; its CPU counts from now.
                cpu += proc.cpu_percent(None)
                memory += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None
        if root_new:
            return None
        return Usage(cpu, 100.0 * memory / self._memory_total)

    def prune(self) -> None:
        """Forgets processes that have ended (stopped servers, replaced workers)."""
        self._known = {pid: p for pid, p in self._known.items() if p.is_running()}


class UtilizationSampler:
    """Every `interval` real seconds, one sample per local instance. Samples tile time (each
    covers the CPU since the previous one), so a period's Average is the instance's average."""

    def __init__(self, store: UtilizationStore, instances: Callable[[], list[LocalInstance]], clock: Clock):
        self.store, self.instances = store, instances
        # At least two samples per (compressed) one-minute period, at most one a second.
        self.interval = min(1.0, clock.real(60) / 2)
        self.groups = ProcessGroups()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cloudwatch-utilization")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def sample(self, now: float) -> None:
        for instance in self.instances():
            usage = self.groups.measure(instance.pid)
            if usage is not None:
                self.store.record(
                    UtilizationSample(
                        now,
                        instance.endpoint,
                        instance.variant,
                        instance.instance_id,
                        usage.cpu_percent,
                        usage.memory_percent,
                    )
                )
        self.groups.prune()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample(time.time())
            except Exception:  # a server stopping mid-sample must not end the sampling
                log.exception("utilization sample failed")


def endpoint_instances(endpoints: Any) -> list[LocalInstance]:
    """The local instances serving each endpoint (`emulator.endpoints.Endpoints`): its pool's
    servers, and a blue/green update's new fleet while it takes traffic."""
    found = []
    for name, serving in list(endpoints.serving.items()):
        endpoint = endpoints.backend.endpoints.get(name)
        if endpoint is None:
            continue
        variant = (endpoint.production_variants or [{}])[0].get("VariantName", "AllTraffic")
        pools = [serving.pool] + ([serving.green] if serving.green is not None else [])
        for pool in pools:
            for server in list(pool.servers):
                if server.child is not None:
                    found.append(LocalInstance(name, variant, server.child.proc.pid))
    return found
