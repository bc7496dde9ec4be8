"""The package boundary: `signing` stays a pure library that auditors can run anywhere."""

from __future__ import annotations

import subprocess
import sys

import signing

FORBIDDEN = ("sqlalchemy", "fastapi", "traceability")


def test_no_module_imports_the_server_stack() -> None:
    # A fresh interpreter, so that modules other tests imported cannot hide an import.
    program = (
        "import importlib, pkgutil, sys, signing\n"
        "for info in pkgutil.walk_packages(signing.__path__, 'signing.'):\n"
        "    importlib.import_module(info.name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_exports_exist() -> None:
    assert all(hasattr(signing, name) for name in signing.__all__)
