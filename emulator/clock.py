"""The emulator's compressed clock for metrics, alarms, cooldowns and provisioning.

AWS measures endpoint metrics per minute, alarms on several minutes, and provisions new
instances in minutes: a load test of the scaling loop would take an hour here. One setting,
`RTB_MLOPS_EMULATOR_TIME_SCALE` (default 30), makes every such duration that many times
shorter: a 60-second period lasts 2 real seconds, a 300-second cooldown 10. Request rates are
not compressed: a period's sums are what the measured rate makes in a full period, so a
per-minute target means what it means on AWS. Set it to 1 for AWS's own minutes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

SETTING = "RTB_MLOPS_EMULATOR_TIME_SCALE"
DEFAULT_SCALE = 30.0


@dataclass(frozen=True)
class Clock:
    scale: float = DEFAULT_SCALE

    @classmethod
    def from_env(cls) -> Clock:
        raw = os.environ.get(SETTING, str(DEFAULT_SCALE))
        try:
            scale = float(raw)
        except ValueError:
            raise ValueError(f"{SETTING}={raw!r}: expected a number >= 1") from None
        if scale < 1:
            raise ValueError(f"{SETTING}={raw!r}: expected a number >= 1")
        return cls(scale)

    def real(self, aws_seconds: float) -> float:
        """How long an AWS duration (a period, a cooldown) lasts here, in real seconds."""
        return aws_seconds / self.scale

    def sleep(self, aws_seconds: float) -> None:
        time.sleep(self.real(aws_seconds))

    @staticmethod
    def now() -> float:
        return time.time()
