"""GetMetricData for `AWS/SageMaker` answered from the emulator's MetricStore.

moto parses and serialises the request (CloudWatch speaks CBOR in current botocore) and keeps
every other namespace; only its backend's `get_metric_data` is wrapped, so queries for
endpoint metrics read the invocations the emulator served.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend

from emulator.cloudwatch.models import NAMESPACE, MetricStore

_original = CloudWatchBackend.get_metric_data


def _answer(store: MetricStore, query: dict[str, Any], start: datetime, end: datetime, order: str) -> dict:
    stat = query["MetricStat"]
    metric = stat["Metric"]
    dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
    points = store.series(
        metric["MetricName"], dims, stat["Stat"], int(stat["Period"]), start.timestamp(), end.timestamp()
    )
    if order == "TimestampDescending":
        points.reverse()
    return {
        "id": query["Id"],
        "label": query.get("Label") or f"{metric['MetricName']} {stat['Stat']}",
        "values": [p.value for p in points],
        "timestamps": [p.timestamp for p in points],
        "status_code": "Complete",
    }


def install(store: MetricStore) -> None:
    def get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        ours = [q for q in queries if q.get("MetricStat", {}).get("Metric", {}).get("Namespace") == NAMESPACE]
        rest = [q for q in queries if q not in ours]
        answered = {q["Id"]: _answer(store, q, start_time, end_time, scan_by) for q in ours}
        if rest:
            answered.update({r["id"]: r for r in _original(self, rest, start_time, end_time, scan_by)})
        return [answered[q["Id"]] for q in queries if q.get("ReturnData", True) and q["Id"] in answered]

    CloudWatchBackend.get_metric_data = get_metric_data
