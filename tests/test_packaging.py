"""Packaging: the import name, the coverage.py shadowing guard, environment.yml in step."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_import_from_repo_root_does_not_shadow_coverage_py():
    # Python started in the repo root sees the folder `coverage/`; numba must still import.
    code = "import coverage, covgap.models._disc_kernels; print(coverage.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "site-packages" in out.stdout, out.stdout


def test_package_is_covgap_not_coverage():
    import covgap

    assert Path(covgap.__file__).parent == ROOT / "coverage" / "covgap"


def _names(reqs):
    return {re.split(r"[<>=!~\[ ;]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_environment_yml_lists_the_same_packages_as_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(py["dependencies"])
    for extra in py["optional-dependencies"].values():
        wanted |= _names(extra)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            conda |= _names([dep])
        else:
            pip = dep.get("pip")
            assert pip[0] == "-e .", "the pip section must install this project first"
            conda |= _names(pip[1:])  # packages not on conda-forge
    conda.discard("python")
    conda.discard("pip")
    missing = wanted - conda
    extra = conda - wanted
    assert not missing, f"in pyproject.toml but not environment.yml: {sorted(missing)}"
    assert not extra, f"in environment.yml but not pyproject.toml: {sorted(extra)}"
