"""Typed parameters: one frozen dataclass per config section, its defaults read from the schema.

Library functions take data first, then keyword parameters or one of these dataclasses, never the
whole config dict. ``@parameters("compare", "composition")`` turns a class with annotated fields
into a frozen dataclass whose defaults are those of ``config/schemas`` (the schema documents and
validates them, so a default is written once) and gives it ``from_config(cfg)``, which reads the
section from a (partial) study config as a rule passes it (``params: cfg=cfg_sections(...)``).

Seeds are resolved in one place, :func:`seed_of`: a section's own ``seed`` when it sets one, else
the study's ``seed``.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from belimap.config import SCHEMA_DIR, load_schema, section_defaults

T = TypeVar("T")


def _schema_of(path: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """(schema file, path inside it) of a config section: a branch with its own schema file owns it."""
    if path and (SCHEMA_DIR / f"{path[0]}.schema.yaml").exists():
        return path[0], path[1:]
    return "config", path


def section_of(cfg: Mapping[str, Any] | None, path: tuple[str, ...]) -> dict[str, Any]:
    """The config section at ``path`` (``{}`` where the config does not set it)."""
    sec: Any = cfg or {}
    for key in path:
        sec = (sec or {}).get(key) if isinstance(sec, Mapping) else None
    return dict(sec or {})


def seed_of(cfg: Mapping[str, Any], *path: str) -> int:
    """The seed of a config section: its own ``seed`` when set (not null), else the study ``seed``."""
    own = section_of(cfg, path).get("seed") if path else None
    return int(own if own is not None else (cfg or {}).get("seed", 0))


def _is_params(tp: Any) -> bool:
    return isinstance(tp, type) and hasattr(tp, "__params_path__")


def parameters(*path: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: a frozen dataclass of config section ``path`` with the schema's defaults.

    A field typed with another ``@parameters`` class is built from the sub-section of the same
    name. A field called ``seed`` resolves through :func:`seed_of`. ``from_config(cfg)`` ignores
    keys the class does not declare, so a section may carry settings used elsewhere.
    """

    def wrap(cls: type[T]) -> type[T]:
        schema, sub = _schema_of(tuple(path))
        defaults = section_defaults(schema, *sub) if sub or schema != "config" else {}
        hints = typing.get_type_hints(cls)
        for name in cls.__dict__.get("__annotations__", {}):
            if name in cls.__dict__:
                continue
            if _is_params(hints.get(name)):
                setattr(cls, name, dataclasses.field(default_factory=hints[name]))
            elif name == "seed" and name not in defaults:
                setattr(cls, name, int(load_schema("config")["properties"]["seed"]["default"]))
            elif name in defaults:
                value = defaults[name]
                if isinstance(value, list | dict):
                    setattr(cls, name, dataclasses.field(default_factory=lambda v=value: copy.deepcopy(v)))
                else:
                    setattr(cls, name, value)
        dc = dataclasses.dataclass(frozen=True)(cls)
        dc.__params_path__ = tuple(path)
        dc.from_config = classmethod(_from_config)
        return dc

    return wrap


def _from_config(cls: type[T], cfg: Mapping[str, Any] | None) -> T:
    """Build the parameters from a (partial) study config; missing keys take the schema defaults."""
    path = cls.__params_path__
    sec = section_of(cfg, path)
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = hints.get(f.name)
        if _is_params(tp):
            kwargs[f.name] = tp.from_config(cfg)
        elif f.name == "seed":
            kwargs[f.name] = seed_of(cfg or {}, *path)
        elif f.name in sec:
            kwargs[f.name] = sec[f.name]
    return cls(**kwargs)
