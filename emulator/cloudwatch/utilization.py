"""Endpoint instance metrics as SageMaker publishes them: `CPUUtilization` and
`MemoryUtilization` in namespace `/aws/sagemaker/Endpoints`, dimensions `EndpointName` and
`VariantName`, unit Percent.
https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html#cloudwatch-metrics-endpoints

- CPUUtilization: the sum of each core's utilization (0-100 each), so 0-400% on 4 vCPUs.
- MemoryUtilization: the share of the instance's memory the containers use, 0-100%.

Each instance publishes its own datapoints; a variant's statistic is over every instance's
samples in the period (CloudWatch's Average is the fleet's average instance). What a local
instance is and how its vCPUs are counted: `emulator.cloudwatch.instances`.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.cloudwatch.models import PeriodStore, aggregate

NAMESPACE = "/aws/sagemaker/Endpoints"
CPU, MEMORY = "CPUUtilization", "MemoryUtilization"


@dataclass(frozen=True)
class UtilizationSample:
    at: float  # epoch seconds
    endpoint: str
    variant: str
    instance: str
    cpu_percent: float
    memory_percent: float


class UtilizationStore(PeriodStore[UtilizationSample]):
    """Every instance's samples. Utilization is per instance: neither the compressed clock
    nor the traffic scale changes it."""

    metrics = frozenset({CPU, MEMORY})

    def statistic(self, metric: str, records: list[UtilizationSample], stat: str) -> float | None:
        if not records:
            return None
        values = [r.cpu_percent if metric == CPU else r.memory_percent for r in records]
        return aggregate(values, stat)

    @staticmethod
    def unit(metric: str) -> str:
        return "Percent"
