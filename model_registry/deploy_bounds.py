"""The deploy settings' defaults and limits, defined once.

The configuration (`deploy` section) accepts them, the deploy Lambda enforces them on its
environment, and the CloudFormation template's parameters declare them; the config and the
Lambda read this module, and a test holds the template to it. A value the config accepted is
never refused by the Lambda, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """An integer setting: its default, and the inclusive range every reader enforces."""

    default: int
    lo: int
    hi: int


STRATEGIES = ("all_at_once", "canary", "linear")
DEFAULT_STRATEGY = "canary"
ROLLBACK_ON_REJECT = True

# Autoscaling bounds of the endpoint's variant.
MIN_INSTANCES = Bound(1, 1, 1000)
MAX_INSTANCES = Bound(4, 1, 1000)
# The staging endpoint of the CodePipeline path: its own, smaller, bounds.
STAGING_MIN_INSTANCES = Bound(1, 1, 1000)
STAGING_MAX_INSTANCES = Bound(2, 1, 1000)
# Who deploys an approval: the deploy Lambda directly, or the model deploy CodePipeline.
DEPLOY_PATHS = ("lambda", "codepipeline")
DEFAULT_DEPLOY_PATH = "lambda"
SCALE_IN_COOLDOWN_SECONDS = Bound(300, 0, 3600)
SCALE_OUT_COOLDOWN_SECONDS = Bound(60, 0, 3600)
# Blue/green traffic shifting.
CANARY_PERCENT = Bound(10, 1, 50)
LINEAR_STEP_PERCENT = Bound(20, 10, 50)
WAIT_INTERVAL_SECONDS = Bound(300, 0, 3600)
TERMINATION_WAIT_SECONDS = Bound(120, 0, 3600)
# The rollback alarms and data capture.
MAX_LATENCY_MS = Bound(20, 1, 60_000)
ERROR_ALARM_THRESHOLD = Bound(10, 1, 1_000_000)
DATA_CAPTURE_PERCENT = Bound(0, 0, 100)
