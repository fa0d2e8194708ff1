"""The commands of bench/ as modules, for the tests that check them: bench/ is a folder of commands, not a
package, so a module is loaded by path, once, and registered (its dataclasses need it in sys.modules)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module(name: str) -> ModuleType:
    """bench/<name>.py (which may import its siblings from bench/ itself)."""
    registered = f"haven_bench_{name}"
    if registered not in sys.modules:
        spec = importlib.util.spec_from_file_location(registered, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[registered] = module
        spec.loader.exec_module(module)
    return sys.modules[registered]
