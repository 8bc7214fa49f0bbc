"""pyproject.toml and environment.yml must pin the same packages to the same versions.

Also checks that the running environment has exactly those versions installed, so a stale
.venv is caught before it produces numbers that do not match the book.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[2]
REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?:(==|>=|<=|~=|!=|>|<)\s*([^\s;,]+))?")


def normalise(name: str) -> str:
    """PEP 503 name normalisation: case, '-', '_' and '.' are all equivalent."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirement(text: str) -> tuple[str, str | None, str | None]:
    m = REQ.match(text)
    assert m, f"cannot parse requirement {text!r}"
    return normalise(m.group(1)), m.group(3), m.group(4)


def pyproject() -> dict:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def pyproject_requirements() -> list[str]:
    project = pyproject()["project"]
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    return reqs


def pyproject_pins() -> dict[str, str]:
    pins = {}
    for req in pyproject_requirements():
        name, op, version = parse_requirement(req)
        assert name not in pins, f"{name} listed twice in pyproject.toml"
        pins[name] = version if op == "==" else f"{op}{version}"
    return pins


def environment() -> dict:
    with open(REPO / "environment.yml") as f:
        return yaml.safe_load(f)


def environment_pip_lines() -> list[str]:
    lines = []
    for dep in environment()["dependencies"]:
        if isinstance(dep, dict):
            lines.extend(dep.get("pip", []))
    return lines


def environment_pins() -> dict[str, str]:
    pins = {}
    for line in environment_pip_lines():
        line = line.strip()
        if line.startswith("-") or line.startswith("."):  # pip options, -e .[extras]
            continue
        name, op, version = parse_requirement(line)
        assert name not in pins, f"{name} listed twice in environment.yml"
        pins[name] = version if op == "==" else f"{op}{version}"
    return pins


def test_pyproject_pins_are_exact():
    loose = [r for r in pyproject_requirements() if parse_requirement(r)[1] != "=="]
    assert not loose, f"pyproject.toml has requirements not pinned with '==': {loose}"


def test_environment_yml_pins_match_pyproject():
    py, env = pyproject_pins(), environment_pins()
    problems = [f"{n}: missing from environment.yml (pyproject.toml pins {v})" for n, v in py.items() if n not in env]
    problems += [f"{n}: missing from pyproject.toml (environment.yml pins {v})" for n, v in env.items() if n not in py]
    problems += [f"{n}: pyproject.toml pins {py[n]}, environment.yml pins {env[n]}" for n in py.keys() & env.keys() if py[n] != env[n]]
    assert not problems, "pins disagree:\n  " + "\n  ".join(sorted(problems))


def test_environment_yml_installs_project_with_extras():
    extras = set(pyproject()["project"]["optional-dependencies"])
    editable = [l for l in environment_pip_lines() if re.match(r"-e\s+\.", l.strip())]
    assert editable, "environment.yml must install the project itself (-e .[...])"
    m = re.search(r"\[([^\]]*)\]", editable[0])
    named = {e.strip() for e in m.group(1).split(",")} if m else set()
    assert named == extras, f"environment.yml installs extras {sorted(named)}, pyproject.toml defines {sorted(extras)}"


def test_environment_yml_python_satisfies_requires_python():
    conda = [d for d in environment()["dependencies"] if isinstance(d, str)]
    python = [d for d in conda if re.match(r"python\s*[=<>]", d)]
    assert python, "environment.yml must pin python"
    env_version = tuple(int(x) for x in re.findall(r"\d+", python[0])[:2])
    minimum = re.match(r">=\s*(\d+)\.(\d+)", pyproject()["project"]["requires-python"])
    assert minimum, "requires-python should be of the form '>=X.Y'"
    assert env_version >= (int(minimum.group(1)), int(minimum.group(2)))


@pytest.mark.parametrize("name", sorted(pyproject_pins()))
def test_installed_version_matches_pin(name):
    pinned = pyproject_pins()[name]
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{name} is not installed; run scripts/setup_env.sh")
    installed = installed.split("+", 1)[0]  # torch 2.13.0+cpu == 2.13.0
    assert installed == pinned, f"{name} {installed} installed, {pinned} pinned; run scripts/setup_env.sh"
