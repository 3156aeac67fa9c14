"""Build hook only (everything else is in pyproject.toml): a wheel carries the top-level ``assets/``
(built-in models, icons) and ``presets/`` as package data in ``engine/_bundled/``, where
engine.bundled finds them. An editable install reads them from the checkout instead."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("assets", "presets")  # engine.bundled.BUNDLED (not imported: the build must not import the project)
# never shipped: hidden files (editor litter, atomic-write temporaries) and bytecode (engine.bundled.shipped_files)
SKIP = shutil.ignore_patterns(".*", "__pycache__", "*.pyc")


class BuildPyWithBundled(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for name in BUNDLED:
            source = Path(name)
            if not source.is_dir():
                raise SystemExit(f"setup.py: {name}/ is missing (an sdist must include it, see MANIFEST.in)")
            target = Path(self.build_lib) / "engine" / "_bundled" / name
            shutil.rmtree(target, ignore_errors=True)  # a file removed from assets/ must not linger in build/
            shutil.copytree(source, target, ignore=SKIP)


setup(cmdclass={"build_py": BuildPyWithBundled})
