"""SageMaker ML Lineage Tracking, which moto lacks: artifacts, actions, contexts, the
associations between them (and any SageMaker ARN), and QueryLineage over that graph."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.core.utils import utcnow

from emulator.protocol import ApiError, validation

KINDS = {"artifact": "Artifact", "action": "Action", "context": "Context"}


@dataclass
class Entity:
    kind: str
    arn: str
    name: str
    fields: dict[str, Any]
    created: Any = field(default_factory=utcnow)

    def describe(self) -> dict[str, Any]:
        key = KINDS[self.kind]
        return {
            f"{key}Arn": self.arn,
            f"{key}Name": self.name,
            **self.fields,
            "CreationTime": self.created,
            "LastModifiedTime": self.created,
        }


_TYPE_FIELD = {"artifact": "ArtifactType", "action": "ActionType", "context": "ContextType"}
_RESOURCE_TYPES = {
    "model-package": "Model",
    "endpoint": "Endpoint",
    "pipeline": "Pipeline",
    "model-package-group": "ModelGroup",
}


class Lineage:
    """One account and region's lineage graph."""

    def __init__(self, account: str, region: str):
        self.account, self.region = account, region
        self.entities: dict[str, Entity] = {}
        self.associations: list[dict[str, Any]] = []

    def _vertex_type(self, arn: str) -> tuple[str, str]:
        """(Type, LineageType) of a vertex, as QueryLineage reports them."""
        entity = self.entities.get(arn)
        if entity is not None:
            return entity.fields.get(_TYPE_FIELD[entity.kind], ""), KINDS[entity.kind]
        resource = arn.split(":", 5)[-1].split("/", 1)[0]
        return _RESOURCE_TYPES.get(resource, resource.title().replace("-", "")), "Artifact"

    def operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        ops: dict[str, Callable] = {}
        for kind, key in KINDS.items():
            ops[f"Create{key}"] = lambda p, k=kind: self.create(k, p)
            ops[f"Describe{key}"] = lambda p, k=kind: self.describe(k, p)
            ops[f"List{key}s"] = lambda p, k=kind: self.list(k, p)
        ops.update(
            AddAssociation=self.add_association,
            ListAssociations=self.list_associations,
            DeleteAssociation=self.delete_association,
            QueryLineage=self.query,
        )
        return ops

    def create(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        key = KINDS[kind]
        name = params.get(f"{key}Name") or f"{kind}-{uuid.uuid4().hex[:12]}"
        if kind != "artifact" and any(e.kind == kind and e.name == name for e in self.entities.values()):
            raise ApiError("ResourceInUse", f"{key} {name} already exists.")
        resource = name.lower() if kind != "artifact" else uuid.uuid4().hex
        arn = f"arn:aws:sagemaker:{self.region}:{self.account}:{kind}/{resource}"
        fields = {k: v for k, v in params.items() if k not in (f"{key}Name", "Tags")}
        self.entities[arn] = Entity(kind, arn, name, fields)
        return {f"{key}Arn": arn}

    def find_by_source(self, kind: str, source_uri: str) -> str | None:
        for e in self.entities.values():
            if e.kind == kind and e.fields.get("Source", {}).get("SourceUri") == source_uri:
                return e.arn
        return None

    def ensure(self, kind: str, source_uri: str, entity_type: str, name: str | None = None) -> str:
        """The entity SageMaker keeps for a SourceUri: the existing one, else a new one."""
        found = self.find_by_source(kind, source_uri)
        if found is not None:
            return found
        key = KINDS[kind]
        params = {"Source": {"SourceUri": source_uri}, _TYPE_FIELD[kind]: entity_type}
        if name:
            params[f"{key}Name"] = name
        return self.create(kind, params)[f"{key}Arn"]

    def associate(self, src: str, dst: str, kind: str) -> None:
        self.add_association({"SourceArn": src, "DestinationArn": dst, "AssociationType": kind})

    def _find(self, kind: str, params: dict[str, Any]) -> Entity:
        key = KINDS[kind]
        wanted = params.get(f"{key}Arn") or params.get(f"{key}Name")
        for e in self.entities.values():
            if e.kind == kind and wanted in (e.arn, e.name):
                return e
        raise ApiError("ResourceNotFound", f"{key} {wanted} does not exist.")

    def describe(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._find(kind, params).describe()

    def list(self, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        key = KINDS[kind]
        found = [e for e in self.entities.values() if e.kind == kind]
        if params.get("SourceUri"):
            found = [e for e in found if e.fields.get("Source", {}).get("SourceUri") == params["SourceUri"]]
        type_key = _TYPE_FIELD[kind]
        if params.get(type_key):
            found = [e for e in found if e.fields.get(type_key) == params[type_key]]
        summaries = [
            {
                f"{key}Arn": e.arn,
                f"{key}Name": e.name,
                "Source": e.fields.get("Source", {}),
                type_key: e.fields.get(type_key, ""),
                "CreationTime": e.created,
            }
            for e in found
        ]
        return {f"{key}Summaries": summaries}

    def add_association(self, params: dict[str, Any]) -> dict[str, Any]:
        src, dst = params["SourceArn"], params["DestinationArn"]
        if src == dst:
            raise validation("SourceArn and DestinationArn must differ.")
        if not any(a["SourceArn"] == src and a["DestinationArn"] == dst for a in self.associations):
            self.associations.append(
                {
                    "SourceArn": src,
                    "DestinationArn": dst,
                    "AssociationType": params.get("AssociationType", "ContributedTo"),
                    "SourceType": self._vertex_type(src)[0],
                    "DestinationType": self._vertex_type(dst)[0],
                    "CreationTime": utcnow(),
                }
            )
        return {"SourceArn": src, "DestinationArn": dst}

    def list_associations(self, params: dict[str, Any]) -> dict[str, Any]:
        keys = ("SourceArn", "DestinationArn", "AssociationType", "SourceType", "DestinationType")
        found = [a for a in self.associations if all(params.get(k) in (None, a[k]) for k in keys)]
        return {"AssociationSummaries": found}

    def delete_association(self, params: dict[str, Any]) -> dict[str, Any]:
        before = len(self.associations)
        self.associations = [
            a
            for a in self.associations
            if (a["SourceArn"], a["DestinationArn"]) != (params["SourceArn"], params["DestinationArn"])
        ]
        if len(self.associations) == before:
            raise ApiError("ResourceNotFound", "Association does not exist.")
        return {"SourceArn": params["SourceArn"], "DestinationArn": params["DestinationArn"]}

    def query(self, params: dict[str, Any]) -> dict[str, Any]:
        direction = params.get("Direction", "Both")
        depth = params.get("MaxDepth", 10)
        seen = set(params.get("StartArns", []))
        frontier, edges = list(seen), []
        for _ in range(depth):
            nxt = []
            for arn in frontier:
                for a in self.associations:
                    up = a["DestinationArn"] == arn and direction in ("Ascendants", "Both")
                    down = a["SourceArn"] == arn and direction in ("Descendants", "Both")
                    if up or down:
                        other = a["SourceArn"] if up else a["DestinationArn"]
                        edges.append(
                            {
                                "SourceArn": a["SourceArn"],
                                "DestinationArn": a["DestinationArn"],
                                "AssociationType": a["AssociationType"],
                            }
                        )
                        if other not in seen:
                            seen.add(other)
                            nxt.append(other)
            frontier = nxt
        vertices = [
            {"Arn": arn, "Type": self._vertex_type(arn)[0], "LineageType": self._vertex_type(arn)[1]} for arn in seen
        ]
        unique_edges = [dict(t) for t in {tuple(sorted(e.items())) for e in edges}]
        return {"Vertices": vertices, "Edges": unique_edges if params.get("IncludeEdges", True) else []}
