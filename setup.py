"""Package list for setuptools: pyproject.toml holds the metadata; this maps the top-level `checks/`
and `templates/` folders into the package and picks up every sub-folder of checks automatically."""

import atexit
import shutil
import tempfile
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).parent
MAPPED = {"posthog_doctor.checks": "checks", "posthog_doctor.templates": "templates"}


def packages_under(folder: str, name: str) -> list[str]:
    base = ROOT / folder
    found = [name]
    for init in sorted(base.rglob("__init__.py")):
        parts = init.parent.relative_to(base).parts
        if parts and not any(p.startswith(".") or p == "__pycache__" for p in parts):
            found.append(".".join((name, *parts)))
    return found


packages = packages_under("posthog_doctor", "posthog_doctor")
for name, folder in MAPPED.items():
    packages += packages_under(folder, name)

# Build in a scratch folder, so `pip install .` leaves no build/ or *.egg-info behind in the checkout.
_scratch = tempfile.mkdtemp(prefix="posthog-doctor-build-")
atexit.register(shutil.rmtree, _scratch, True)
setup(
    packages=packages,
    package_dir=MAPPED,
    options={"build": {"build_base": f"{_scratch}/build"}, "egg_info": {"egg_base": _scratch}},
)
