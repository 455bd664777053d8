"""The emulator's endpoint instance metrics: CPUUtilization and MemoryUtilization of the real
model-server process groups, in `/aws/sagemaker/Endpoints`, read through GetMetricData."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import boto3
import psutil
from moto.cloudwatch.models import CloudWatchBackend

from emulator.clock import Clock
from emulator.cloudwatch import responses
from emulator.cloudwatch.instances import LocalInstance, ProcessGroups, UtilizationSampler, local_vcpus
from emulator.cloudwatch.models import NAMESPACE as INVOCATIONS
from emulator.cloudwatch.models import Invocation, MetricStore
from emulator.cloudwatch.utilization import CPU, MEMORY, NAMESPACE, UtilizationSample, UtilizationStore

DIMS = {"EndpointName": "ep", "VariantName": "AllTraffic"}
# A supervisor whose child keeps one core busy, as a model server's worker under load does.
_BUSY_GROUP = (
    "import subprocess, sys, time;"
    "child = subprocess.Popen([sys.executable, '-c', 'import time\\nend = time.time() + 20\\nwhile time.time() < end: pass']);"
    "time.sleep(20)"
)


def _store() -> UtilizationStore:
    store = UtilizationStore(Clock(30.0))
    for at, instance, cpu, memory in ((1000.1, "a", 180.0, 10.0), (1000.5, "b", 20.0, 4.0), (1003.0, "a", 50.0, 9.0)):
        store.record(UtilizationSample(at, "ep", "AllTraffic", instance, cpu, memory))
    return store


def test_a_periods_average_is_the_fleets_average_instance_in_percent():
    # At x30 a 60 s period lasts 2 s: the first two samples (two instances) share one.
    first, second = _store().series(CPU, DIMS, "Average", 60, 999.0, 1005.0)
    assert (first.value, second.value) == (100.0, 50.0) and first.unit == "Percent"
    assert _store().series(CPU, DIMS, "Maximum", 60, 999.0, 1002.0)[0].value == 180.0
    assert _store().series(MEMORY, DIMS, "Average", 60, 999.0, 1002.0)[0].value == 7.0
    assert _store().series("Invocations", DIMS, "Sum", 60, 999.0, 1005.0) == []


def test_get_metric_data_reads_each_namespace_from_its_store(moto_aws, monkeypatch):
    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", CloudWatchBackend.get_metric_data)  # restored after
    invocations = MetricStore(Clock(30.0))
    invocations.record(Invocation(1000.2, "ep", "AllTraffic", 900.0, 100.0, 200, 1))
    responses.install({INVOCATIONS: invocations, NAMESPACE: _store()})
    dims = [{"Name": k, "Value": v} for k, v in DIMS.items()]

    def query(qid: str, namespace: str, metric: str, stat: str) -> dict:
        metric_ = {"Namespace": namespace, "MetricName": metric, "Dimensions": dims}
        return {"Id": qid, "MetricStat": {"Metric": metric_, "Period": 60, "Stat": stat}}

    answer = boto3.client("cloudwatch", region_name="us-east-1").get_metric_data(
        MetricDataQueries=[
            query("cpu", NAMESPACE, CPU, "Average"),
            query("memory", NAMESPACE, MEMORY, "Average"),
            query("latency", INVOCATIONS, "ModelLatency", "p99"),
            # The instance metrics are not in AWS/SageMaker: asked there, they have no data.
            query("misplaced", INVOCATIONS, CPU, "Average"),
        ],
        StartTime=datetime.fromtimestamp(999, UTC),
        EndTime=datetime.fromtimestamp(1005, UTC),
        ScanBy="TimestampAscending",
    )
    values = {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}
    assert values == {"cpu": [100.0, 50.0], "memory": [7.0, 9.0], "latency": [900.0], "misplaced": []}


def _stop_group(supervisor: subprocess.Popen) -> None:
    os.killpg(supervisor.pid, signal.SIGKILL)
    supervisor.wait()


def test_a_process_groups_cpu_is_summed_over_its_processes():
    supervisor = subprocess.Popen([sys.executable, "-c", _BUSY_GROUP], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not psutil.Process(supervisor.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        groups = ProcessGroups()
        assert groups.measure(supervisor.pid) is None  # first sight: no interval yet
        time.sleep(1.0)
        usage = groups.measure(supervisor.pid)
    finally:
        _stop_group(supervisor)
    assert usage is not None
    # The busy child is a descendant: its core counts (the sleeping supervisor adds ~0). On a
    # shared 2-core machine it may get well under a full core, never more than all of them.
    assert 25.0 < usage.cpu_percent <= 100.0 * local_vcpus() + 5
    assert 0.0 < usage.memory_percent < 100.0
    assert groups.measure(supervisor.pid) is None  # gone


def test_the_sampler_publishes_each_local_instance_under_its_endpoint_and_variant():
    supervisor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(20)"], start_new_session=True)
    try:
        store = UtilizationStore(Clock(30.0))
        sampler = UtilizationSampler(store, lambda: [LocalInstance("ep", "AllTraffic", supervisor.pid)], Clock(30.0))
        assert sampler.interval == 1.0  # two samples per 2-second period
        sampler.sample(1000.0)
        sampler.sample(1000.5)
    finally:
        _stop_group(supervisor)
    [point] = store.series(MEMORY, DIMS, "SampleCount", 60, 999.0, 1002.0)
    assert point.value == 1  # the first look only starts the CPU interval
    [cpu] = store.series(CPU, DIMS, "Maximum", 60, 999.0, 1002.0)
    assert 0.0 <= cpu.value <= 100.0 * local_vcpus() and cpu.unit == "Percent"
