"""The resource types the emulator adds to moto's CloudFormation: their properties (PascalCase) as the
service's API spells them (camelCase), and what a resource created by name shares."""

from __future__ import annotations

from typing import Any


class NamedResource:
    """What a resource created by name shares: `Ref` is the name, one `Fn::GetAtt` attribute.
    Mixed into a direct CloudFormationModel subclass (moto lists only direct subclasses)."""

    ATTRIBUTE = ""

    def __init__(self, name: str, attribute: str):
        self.name, self.attribute = name, attribute

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == cls.ATTRIBUTE

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.attribute


def api_shape(value: Any, renames: dict[str, str], verbatim: frozenset[str]) -> Any:
    """Each key's first letter lowered (or renamed), recursively, except under `verbatim` keys,
    whose maps are the service's own (an action's Configuration); their values become strings,
    as CloudFormation passes them."""
    if isinstance(value, list):
        return [api_shape(v, renames, verbatim) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        name = renames.get(key, key[:1].lower() + key[1:])
        if key in verbatim and isinstance(item, dict):
            out[name] = {k: _text(v) for k, v in item.items()}
        else:
            out[name] = api_shape(item, renames, verbatim)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else str(value)
