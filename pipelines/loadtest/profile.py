"""Load profiles: phases of constant request rate, derived from the serving package's plan.

- step:  steady at one instance's target (long enough for an idle fleet to scale in to its
         minimum), a step to the planned peak (scale-out), then back (scale-in again).
- ramp:  from one instance's target up to the peak and down again, in equal steps.
- spike: steady, a short spike to the peak, steady again.

Rates are requests per second; `--max-rps` bounds what one machine sends (Locust's
distributed mode sends more), and a profile above it is scaled down whole, which the report says.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from model_registry.errors import UserError

PROFILES = ("step", "ramp", "spike")
_RAMP_STEPS = 5


class ProfileError(UserError):
    """A profile that cannot be run; the message names the flag."""


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    rps: float


@dataclass(frozen=True)
class Profile:
    name: str
    phases: tuple[Phase, ...]
    scaled_by: float = 1.0  # < 1 when the plan's rates were above --max-rps

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    @property
    def peak_rps(self) -> float:
        return max(p.rps for p in self.phases)

    def step_starts(self) -> float:
        """Seconds from the start to the first phase at the peak rate (the load step)."""
        elapsed = 0.0
        for p in self.phases:
            if p.rps >= self.peak_rps:
                return elapsed
            elapsed += p.seconds
        return 0.0

    def rate_at(self, t: float) -> float | None:
        """The rate at t seconds from the start; None once the profile has ended."""
        for p in self.phases:
            if t < p.seconds:
                return p.rps
            t -= p.seconds
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Profile:
        d = json.loads(text)
        return cls(d["name"], tuple(Phase(**p) for p in d["phases"]), d["scaled_by"])


def build(name: str, base_rps: float, peak_rps: float, seconds: float, max_rps: float) -> Profile:
    """A profile from one instance's target rate (base) to the peak, over `seconds`."""
    if name not in PROFILES:
        raise ProfileError(f"--profile {name!r}: expected one of {', '.join(PROFILES)}")
    if seconds < 10:
        raise ProfileError(f"--duration {seconds:g}: expected at least 10 seconds")
    if not 0 < base_rps <= peak_rps:
        raise ProfileError(f"rates: expected 0 < base ({base_rps:g}) <= peak ({peak_rps:g}) requests/s")
    if max_rps <= 0:
        raise ProfileError(f"--max-rps {max_rps:g}: expected a positive rate")
    scale = min(1.0, max_rps / peak_rps)
    base, peak = base_rps * scale, peak_rps * scale
    if name == "step":
        # The tail is the longest: scale-in waits for 15 low datapoints, scale-out for 3.
        phases = (
            Phase("steady", seconds * 0.3, base),
            Phase("step", seconds * 0.3, peak),
            Phase("after", seconds * 0.4, base),
        )
    elif name == "spike":
        phases = (
            Phase("steady", seconds * 0.35, base),
            Phase("spike", seconds * 0.15, peak),
            Phase("after", seconds * 0.5, base),
        )
    else:
        up = [base + (peak - base) * i / (_RAMP_STEPS - 1) for i in range(_RAMP_STEPS)]
        rates = up + up[-2::-1]
        phases = tuple(Phase(f"ramp-{i + 1}", seconds / len(rates), r) for i, r in enumerate(rates))
    return Profile(name, phases, scale)
