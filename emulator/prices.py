"""What the emulator needs to project a measurement on this machine to other instance types:
vCPUs per size, and approximate on-demand SageMaker real-time prices (us-east-1, USD per
vCPU-hour, from the public price list; good enough to rank candidates, not to bill)."""

from __future__ import annotations

_VCPUS = {
    "medium": 2,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "9xlarge": 36,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
}
_USD_PER_VCPU_HOUR = {
    "c5": 0.0595,
    "c5d": 0.068,
    "c6i": 0.0595,
    "c7i": 0.0625,
    "m5": 0.0575,
    "m5d": 0.0665,
    "m6i": 0.0575,
    "m7i": 0.0605,
    "r5": 0.0755,
    "r6i": 0.0755,
    "t2": 0.0325,
    "t3": 0.025,
}


class UnknownInstanceType(ValueError):
    pass


def vcpus(instance_type: str) -> int:
    size = instance_type.rsplit(".", 1)[-1]
    if size not in _VCPUS:
        raise UnknownInstanceType(f"{instance_type}: the emulator has no vCPU count for size {size!r}")
    return _VCPUS[size]


def hourly_usd(instance_type: str) -> float:
    family = instance_type.split(".")[1] if instance_type.count(".") == 2 else ""
    if family not in _USD_PER_VCPU_HOUR:
        raise UnknownInstanceType(f"{instance_type}: the emulator has no price for family {family!r}")
    return round(_USD_PER_VCPU_HOUR[family] * vcpus(instance_type), 4)
