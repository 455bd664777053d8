"""What the load test reads from AWS: the variant's instance counts while it runs (sampled
from DescribeEndpoint), and the endpoint's CloudWatch metrics afterwards (GetMetricData)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient

INVOCATIONS, INSTANCES = "AWS/SageMaker", "/aws/sagemaker/Endpoints"
# (query id, namespace, metric, statistic): what SageMaker publishes per endpoint variant.
# Instance metrics: CPUUtilization is the sum over each instance's cores (0-100% x vCPUs),
# MemoryUtilization a percentage; Average is the fleet's average instance.
# https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html
METRICS = (
    ("invocations", INVOCATIONS, "Invocations", "Sum"),
    ("per_instance", INVOCATIONS, "InvocationsPerInstance", "Sum"),
    ("model_p99", INVOCATIONS, "ModelLatency", "p99"),
    ("model_p50", INVOCATIONS, "ModelLatency", "p50"),
    ("overhead_p99", INVOCATIONS, "OverheadLatency", "p99"),
    ("errors_4xx", INVOCATIONS, "Invocation4XXErrors", "Sum"),
    ("errors_5xx", INVOCATIONS, "Invocation5XXErrors", "Sum"),
    ("cpu", INSTANCES, "CPUUtilization", "Average"),
    ("memory", INSTANCES, "MemoryUtilization", "Average"),
)
PERIOD = 60


@dataclass(frozen=True)
class InstanceSample:
    at: float
    status: str
    desired: int
    current: int


class InstanceSampler:
    """DescribeEndpoint every `interval` seconds on a thread, until stopped."""

    def __init__(self, sm: BaseClient, endpoint: str, variant: str, interval: float = 1.0):
        self.sm, self.endpoint, self.variant, self.interval = sm, endpoint, variant, interval
        self.samples: list[InstanceSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="instance-sampler")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[InstanceSample]:
        self._stop.set()
        self._thread.join()
        return self.samples

    def sample(self) -> InstanceSample:
        d = self.sm.describe_endpoint(EndpointName=self.endpoint)
        v = next((v for v in d.get("ProductionVariants", []) if v["VariantName"] == self.variant), {})
        return InstanceSample(
            time.time(),
            d["EndpointStatus"],
            int(v.get("DesiredInstanceCount", 0)),
            int(v.get("CurrentInstanceCount", 0)),
        )

    def _run(self) -> None:
        while True:
            self.samples.append(self.sample())
            if self._stop.wait(self.interval):
                return


def metric_series(
    cw: BaseClient, endpoint: str, variant: str, start: float, end: float
) -> dict[str, dict[float, float]]:
    """{query id: {epoch seconds: value}} for each of METRICS over [start, end]."""
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    queries: list[dict[str, Any]] = [
        {
            "Id": qid,
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
                "Period": PERIOD,
                "Stat": stat,
            },
        }
        for qid, namespace, metric, stat in METRICS
    ]
    out: dict[str, dict[float, float]] = {qid: {} for qid, *_ in METRICS}
    kwargs: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": datetime.fromtimestamp(start, UTC),
        "EndTime": datetime.fromtimestamp(end, UTC),
        "ScanBy": "TimestampAscending",
    }
    while True:
        resp = cw.get_metric_data(**kwargs)
        for result in resp["MetricDataResults"]:
            for ts, value in zip(result["Timestamps"], result["Values"], strict=True):
                out[result["Id"]][ts.timestamp()] = value
        if not resp.get("NextToken"):
            return out
        kwargs["NextToken"] = resp["NextToken"]
