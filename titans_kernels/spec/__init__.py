"""Spec language: YAML memory update rules, validated into `MemorySpec`."""
from .schema import MemorySpec, MemoryConfig, LossConfig, UpdateConfig, SCHEMA_VERSION
from .loader import load_spec, list_specs, spec_search_dirs, parse_spec

__all__ = [
    "MemorySpec", "MemoryConfig", "LossConfig", "UpdateConfig", "SCHEMA_VERSION",
    "load_spec", "list_specs", "spec_search_dirs", "parse_spec",
]
