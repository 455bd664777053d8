"""Tags on model packages, which moto's AddTags refuses (its ARN lookup knows no packages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.context import Context


class PackageTags:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.tags: dict[str, dict[str, str]] = {}

    def operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {"AddTags": self.add, "ListTags": self.list, "DeleteTags": self.delete}

    @staticmethod
    def _ours(arn: str) -> bool:
        return ":model-package/" in arn

    def add(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceArn"]
        if not self._ours(arn):
            return self._moto("add_tags", arn=arn, tags=params.get("Tags", []))
        self.tags.setdefault(arn, {}).update({t["Key"]: t["Value"] for t in params.get("Tags", [])})
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags[arn].items()]}

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceArn"]
        if not self._ours(arn):
            return {"Tags": self._moto("list_tags", arn=arn)}
        return {"Tags": [{"Key": k, "Value": v} for k, v in self.tags.get(arn, {}).items()]}

    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["ResourceArn"]
        if not self._ours(arn):
            self._moto("delete_tags", arn=arn, tag_keys=params.get("TagKeys", []))
            return {}
        for key in params.get("TagKeys", []):
            self.tags.get(arn, {}).pop(key, None)
        return {}

    def _moto(self, method: str, **kwargs: Any) -> Any:
        from moto.sagemaker.models import sagemaker_backends

        result = getattr(sagemaker_backends[self.ctx.account][self.ctx.region], method)(**kwargs)
        return {"Tags": result} if method == "add_tags" else result
