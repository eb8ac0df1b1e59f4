"""Every conda env pins exactly the versions of requirements.lock (the tested stack)."""

import yaml

from belimap.config import ROOT


def lock():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version.strip()
    return pins


def test_env_pins_equal_lock():
    pins = lock()
    envs = sorted((ROOT / "envs").glob("*.yaml"))
    assert envs
    for env in envs:
        spec = yaml.safe_load(env.read_text())
        pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d)
        for req in pip:
            name, version = req.split("==")
            assert pins.get(name.lower().replace("_", "-")) == version, f"{env.name}: {req} differs from requirements.lock"


def test_every_rule_env_exists():
    import re

    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        for name in re.findall(r'env\("([^"]+)"\)', smk.read_text()):
            assert (ROOT / "envs" / f"{name}.yaml").exists(), f"{smk.name} names missing env {name}"
