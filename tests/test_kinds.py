"""One registry of method kinds: the schema, the method classes and the paper's rows agree with it."""

from __future__ import annotations

import yaml
from robustxlt.analysis.published import PUBLISHED
from robustxlt.pipeline.config import SCHEMA_PATH
from robustxlt.training.kinds import KINDS, paper_kinds
from robustxlt.training.methods import METHODS


def test_schema_kinds_are_the_registry():
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    method = schema["properties"]["methods"]["additionalProperties"]
    assert method["properties"]["kind"]["enum"] == list(KINDS)
    branches = [branch["if"]["properties"]["kind"]["const"] for branch in method["allOf"]]
    assert sorted(branches) == sorted(KINDS)
    assert all(f"#/$defs/{kind}" == branch["then"]["$ref"] for kind, branch in zip(branches, method["allOf"]))


def test_every_kind_has_one_method_class():
    assert set(METHODS) == set(KINDS)
    assert all(cls.kind == kind for kind, cls in METHODS.items())


def test_published_rows_name_registered_kinds():
    kinds = {row.kind for rows in PUBLISHED.values() for row in rows} - {None}
    assert kinds == {kind.name for kind in paper_kinds()}
