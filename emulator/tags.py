"""Tags on model packages, which moto's AddTags refuses (its ARN lookup knows no packages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class PackageTags:
    def __init__(self) -> None:
        self.tags: dict[str, dict[str, str]] = {}

    def operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {"AddTags": self.add, "ListTags": self.list, "DeleteTags": self.delete}

    def add(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceArn"]
        self.tags.setdefault(arn, {}).update({t["Key"]: t["Value"] for t in params.get("Tags", [])})
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags[arn].items()]}

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags.get(params["ResourceArn"], {}).items()]}

    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        for key in params.get("TagKeys", []):
            self.tags.get(params["ResourceArn"], {}).pop(key, None)
        return {}
