"""Load and validate configuration and tables against the JSON schemas in ``config/schemas``.

We validate with ``jsonschema`` directly (the engine behind ``snakemake.utils.validate``) so that
the CLI, the tests and the workflow share one code path and a failure is a single line naming the
file and the field, and so that schema defaults are filled in the same way everywhere.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from belimap.errors import BelimapError

#: Repository root (``workflow/scripts/belimap/config.py`` -> four levels up).
ROOT = Path(__file__).resolve().parents[3]
SCHEMA_DIR = ROOT / "config" / "schemas"


def _with_defaults(validator_class: type) -> type:
    """Extend a jsonschema validator so that ``default`` values are written into the instance."""
    validate_props = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # noqa: ANN001 - jsonschema API
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_DefaultingValidator = _with_defaults(jsonschema.Draft7Validator)


def load_schema(name: str) -> dict[str, Any]:
    """Read ``config/schemas/<name>.schema.yaml``."""
    path = SCHEMA_DIR / f"{name}.schema.yaml"
    with open(path) as fh:
        return yaml.safe_load(fh)


def validate(instance: Any, schema: str | dict, where: str, set_default: bool = True) -> Any:
    """Validate ``instance`` (filling defaults in place) or raise a one-line ``BelimapError``.

    ``where`` names the file (and row) for the message, e.g. ``config/samples.tsv row 3``.
    """
    found = schema_errors(instance, schema, where, set_default=set_default)
    if found:
        raise BelimapError(found[0])
    return instance


def schema_errors(instance: Any, schema: str | dict, where: str, set_default: bool = True) -> list[str]:
    """Every schema violation of ``instance`` as one line each (``belimap validate`` lists them all)."""
    schema_dict = load_schema(schema) if isinstance(schema, str) else schema
    cls = _DefaultingValidator if set_default else jsonschema.Draft7Validator
    # Defaults nested under a default ({}) appear only after a second pass.
    for _ in range(4 if set_default else 1):
        errors = sorted(cls(schema_dict).iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            return [f"{where}: field '{'.'.join(str(p) for p in e.absolute_path) or '(top level)'}': {e.message}"
                    for e in errors]
    return []


def section_defaults(schema: str, *path: str) -> dict[str, Any]:
    """The defaults a schema declares for one section, e.g. ``section_defaults("compare", "pseudobulk")``.

    Parameter dataclasses take their field defaults from here, so a default is written once, in
    the schema that also documents and validates it.
    """
    sub = load_schema(schema)
    for key in path:
        sub = sub["properties"][key]
    return validate({}, sub, f"config/schemas/{schema}.schema.yaml")


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning a missing file or a syntax error into a one-line error."""
    path = Path(path)
    if not path.exists():
        raise BelimapError(f"{path}: file not found")
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise BelimapError(f"{path}:{line} is not valid YAML ({getattr(err, 'problem', err)})") from None


def load_config(path: str | Path, overrides: dict | None = None) -> dict[str, Any]:
    """Read a study config, apply ``overrides`` (deep-merged), validate and fill defaults."""
    cfg = read_yaml(path) or {}
    if not isinstance(cfg, dict):
        raise BelimapError(f"{path}: expected a mapping of config keys at the top level")
    if overrides:
        cfg = deep_merge(cfg, overrides)
    return validate_config(cfg, str(path))


def validate_config(cfg: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """Validate every section of a config dict against its schema and check cross-references."""
    validate(cfg, "config", where)
    for section in SECTION_SCHEMAS:
        if (SCHEMA_DIR / f"{section}.schema.yaml").exists():
            cfg.setdefault(section, {})
            validate(cfg[section], section, f"{where} section '{section}'")
    design = cfg.get("simulate", {}).get("design") or {}
    for tissue, times in design.items():
        if tissue not in cfg["tissues"]:
            raise BelimapError(f"{where}: field 'simulate.design': tissue '{tissue}' is not in tissues {cfg['tissues']}")
        for tp in times:
            if tp not in cfg["timepoints"]:
                raise BelimapError(
                    f"{where}: field 'simulate.design.{tissue}': timepoint '{tp}' is not in timepoints {cfg['timepoints']}"
                )
    return cfg


#: Branch sections with a schema of their own (config/schemas/<section>.schema.yaml), validated
#: when the schema file exists so that each branch owns its section.
SECTION_SCHEMAS = ("flow", "bcr", "compare", "clinical", "model")


def deep_merge(base: dict, extra: dict) -> dict:
    """Return ``base`` updated recursively by ``extra`` (neither is modified)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def repo_path(path: str | Path) -> Path:
    """A path from the config: as given if absolute or present in the working directory (a study
    directory may carry its own tuned resources/), else relative to belimap's own folder."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return ROOT / p


def resource_path(cfg: dict[str, Any], key: str) -> Path:
    """Path of a resource named in ``cfg['resources']`` (see :func:`repo_path`)."""
    return repo_path(cfg.get("resources", {}).get(key, ""))
