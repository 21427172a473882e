"""YAML config files mapped strictly onto nested dataclasses, with `a.b.c=value` command-line overrides."""
from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")
_PLAIN_SCALARS = (str, int, float, bool, type(None))
_EXPONENT_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+")


MAX_CONFIG_BYTES = 1 << 20


def safe_load_without_aliases(text: str, where: str) -> Any:
    """`yaml.safe_load` that refuses anchors' aliases (*name): a few hundred bytes of nested aliases
    ("billion laughs") would otherwise expand to gigabytes. Configs never need them."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise ValueError(f"{where} uses the YAML alias *{event.anchor} ({event.start_mark}); aliases are "
                                 "not allowed in configs: write the value out")
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ValueError(f"{where} is not valid YAML: {error}") from error


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(f"config file {path} is larger than {MAX_CONFIG_BYTES} bytes: not a config")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"config file {path} is not UTF-8 text: {error}") from error
    data = safe_load_without_aliases(text, f"config file {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TypeError(f"config file {path} must hold a mapping at the top level, got {type(data).__name__}")
    return data


def apply_overrides(mapping: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of `mapping` with each "dotted.key=value" set; values are YAML ("100" -> 100, "[8, 8]" -> list)."""
    import copy


    result = copy.deepcopy(mapping)
    for override in overrides:
        key, separator, text = override.partition("=")
        if not separator or not key or any(not part for part in key.split(".")):
            raise ValueError(f"override {override!r} must look like section.key=value")
        value = safe_load_without_aliases(text, f"override {override!r}")
        *parents, leaf = key.split(".")
        node = result
        for depth, part in enumerate(parents):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"override {override!r}: {'.'.join(parents[:depth + 1])} is not a section")
            node = child
        node[leaf] = value
    return result


def _type_name(type_: Any) -> str:
    return getattr(type_, "__name__", None) or str(type_).replace("typing.", "")


def _check_plain(value: Any, key: str) -> Any:
    """Free-form values (dict[str, Any] fields) may only hold YAML scalars, lists and string-keyed mappings."""
    if isinstance(value, dict):
        for name, item in value.items():
            if not isinstance(name, str):
                raise TypeError(f"config key '{key}' has a non-string key {name!r}")
            _check_plain(item, f"{key}.{name}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            _check_plain(item, f"{key}[{position}]")
    elif not isinstance(value, _PLAIN_SCALARS):
        raise TypeError(f"config key '{key}' holds a {type(value).__name__}, which is not a YAML scalar")
    return value


def _convert(type_: Any, value: Any, key: str) -> Any:
    origin, args = typing.get_origin(type_), typing.get_args(type_)
    if dataclasses.is_dataclass(type_):
        return from_mapping(type_, value, key)
    if type_ is Any:
        return _check_plain(value, key)
    if origin is Literal:
        if not any(type(value) is type(arg) and value == arg for arg in args):
            raise ValueError(f"config key '{key}' must be one of {list(args)}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        candidates = [arg for arg in args if arg is not type(None)]
        if len(candidates) != 1:
            raise TypeError(f"config key '{key}': unsupported union type {type_}")
        return _convert(candidates[0], value, key)
    if origin is list:
        if not isinstance(value, list):
            raise TypeError(f"config key '{key}' must be a list, got {type(value).__name__} {value!r}")
        return [_convert(args[0], item, f"{key}[{position}]") for position, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError(f"config key '{key}' must be a mapping, got {type(value).__name__} {value!r}")
        return {name: _convert(args[1], item, f"{key}.{name}") for name, item in _check_plain(value, key).items()}
    if type_ is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type_ is float and isinstance(value, str) and _EXPONENT_NUMBER.fullmatch(value):
        value = float(value)  # YAML 1.1 (PyYAML) reads 3e-4, without a dot, as a string
    if type_ is float and isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"config key '{key}' must be a finite number, got {value}")
    if type_ is int and isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        raise ValueError(f"config key '{key}' = {value} is out of the 64-bit integer range")
    if type_ in (int, float, str, bool):
        if isinstance(value, type_) and not (type_ is int and isinstance(value, bool)):
            return value
        raise TypeError(f"config key '{key}' must be {type_.__name__}, got {type(value).__name__} {value!r}")
    raise TypeError(f"config key '{key}' has a field type the loader does not handle: {_type_name(type_)}")


def from_mapping(cls: type[T], mapping: Any, where: str = "") -> T:
    """Instance of dataclass `cls` from a mapping: unknown keys are ValueErrors, wrong types TypeErrors.

    Keys that the mapping leaves out take the dataclass defaults. `where` is the dotted path used in
    error messages.
    """
    section = where or "<top level>"
    if not isinstance(mapping, dict):
        raise TypeError(f"config section '{section}' must be a mapping, got {type(mapping).__name__} {mapping!r}")
    hints = typing.get_type_hints(cls)
    names = [field.name for field in dataclasses.fields(cls)]
    unknown = [key for key in mapping if key not in names]
    if unknown:
        prefix = f"{where}." if where else ""
        raise ValueError(f"unknown config key '{prefix}{unknown[0]}'; keys of section '{section}': {', '.join(names)}")
    prefix = f"{where}." if where else ""
    return cls(**{name: _convert(hints[name], value, prefix + name) for name, value in mapping.items()})


def to_mapping(instance: Any) -> dict[str, Any]:
    """Plain nested dict of a dataclass instance (the inverse of `from_mapping`)."""
    return dataclasses.asdict(instance)


def differences(left: dict[str, Any], right: dict[str, Any], where: str = "") -> list[str]:
    """'key: left != right' for every dotted key whose values differ between two nested mappings."""
    lines = []
    for key in sorted(set(left) | set(right), key=str):
        dotted = f"{where}.{key}" if where else str(key)
        a, b = left.get(key, "<absent>"), right.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            lines += differences(a, b, dotted)
        elif a != b:
            lines.append(f"{dotted}: {a!r} != {b!r}")
    return lines


def check_resume_compatible(saved: dict[str, Any], current: dict[str, Any], checkpoint: Path,
                            resumable: tuple[str, ...]) -> None:
    """ValueError unless `current` differs from the checkpoint's config only in keys starting with `resumable`."""
    changed = differences(saved, current)
    model_changes = [line for line in changed if line.startswith("model.")]
    if model_changes:
        raise ValueError(f"checkpoint {checkpoint} was trained with another model or quantizer: "
                         + "; ".join(model_changes))
    other = [line for line in changed if not line.startswith(resumable)]
    if other:
        raise ValueError(f"cannot resume from {checkpoint} with a changed training setup (start a new run "
                         "directory instead): " + "; ".join(other))
