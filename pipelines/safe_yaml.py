"""YAML for configuration: safe types only, and a small budget of aliases.

`yaml.safe_load` constructs no objects, but a "billion laughs" document (aliases of aliases)
still expands into a structure that takes seconds and gigabytes to walk and validate. A real
configuration needs a handful of aliases at most, so past `MAX_ALIASES` the document is refused
before anything walks it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_ALIASES = 50


class TooManyAliases(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise TooManyAliases(f"more than {MAX_ALIASES} aliases (at line {mark.line + 1}); expand them")
        return super().compose_node(parent, index)


# PyYAML follows YAML 1.1, where `1e-15` (no dot) is a string; YAML 1.2 and JSON read it as
# a number, and so does a person writing a cost ceiling. (The configuration's numeric fields
# are strict, so a string there would be refused.)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"),
)


def load(text: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()
