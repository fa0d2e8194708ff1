"""What the figures were measured on: CPU, cores, RAM (from /proc) and the versions of every engine."""
from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from importlib import metadata


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def load_average() -> str:
    try:
        with open("/proc/loadavg", encoding="utf-8") as handle:
            return " ".join(handle.read().split()[:3])
    except OSError:
        return "?"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _command_version(argv: list[str], pattern: str) -> str:
    local = os.path.join(os.path.dirname(sys.executable), argv[0])  # the virtualenv's own CLIs (oxigraph)
    argv = [local, *argv[1:]] if os.path.exists(local) else argv
    if not shutil.which(argv[0]):
        return "not installed"
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(pattern, out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def describe() -> dict:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(ram_gib(), 1),
        "kernel": platform.release(),
        "load_at_start": load_average(),
        "versions": {
            "Python": platform.python_version(),
            "rdflib": _package("rdflib"),
            "pyshacl": _package("pyshacl"),
            "pyoxigraph": _package("pyoxigraph"),
            "oxigraph (server)": _command_version(["oxigraph", "--version"], r"(\d+\.\d+\.\d+\S*)"),
            "owlready2 (HermiT)": _package("owlready2"),
            "flask": _package("flask"),
            "waitress": _package("waitress"),
            "Virtuoso": _command_version(["virtuoso-t", "+version"], r"Version (\S+)"),
            "wrk": _command_version(["wrk", "--version"], r"wrk (\S+)"),
        },
    }
