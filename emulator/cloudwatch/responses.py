"""GetMetricData for the endpoint namespaces answered from the emulator's stores: `AWS/SageMaker`
(invocations, `models.MetricStore`) and `/aws/sagemaker/Endpoints` (instance CPU and memory,
`utilization.UtilizationStore`).

moto parses and serialises the request (CloudWatch speaks CBOR in current botocore) and keeps
every other namespace; only its backend's `get_metric_data` is wrapped, so queries for
endpoint metrics read what the emulator measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from moto.cloudwatch.models import CloudWatchBackend

from emulator.cloudwatch.models import PeriodStore

_original = CloudWatchBackend.get_metric_data


def _answer(store: PeriodStore, query: dict[str, Any], start: datetime, end: datetime, order: str) -> dict:
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


def _namespace(query: dict[str, Any]) -> str | None:
    return query.get("MetricStat", {}).get("Metric", {}).get("Namespace")


def install(stores: Mapping[str, PeriodStore]) -> None:
    """Queries in one of `stores`' namespaces are answered from that store."""

    def get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        ours = [q for q in queries if _namespace(q) in stores]
        rest = [q for q in queries if q not in ours]
        answered = {q["Id"]: _answer(stores[_namespace(q)], q, start_time, end_time, scan_by) for q in ours}
        if rest:
            answered.update({r["id"]: r for r in _original(self, rest, start_time, end_time, scan_by)})
        return [answered[q["Id"]] for q in queries if q.get("ReturnData", True) and q["Id"] in answered]

    CloudWatchBackend.get_metric_data = get_metric_data
