"""Copy the browser libraries Haven serves from `assets/node_modules` into the package's static folder.

`assets/package.json` pins the npm packages and names, under `haven.serve`, each file to serve
(`<served path under static/vendor/>: <path under node_modules/>`). Only those files are copied, so the server
serves a short, reviewed list rather than the whole of node_modules, and each library's licence goes with it.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
VENDOR = ROOT / "server" / "haven" / "web" / "static" / "vendor"


def main() -> int:
    manifest = json.loads((ASSETS / "package.json").read_text())
    modules = ASSETS / "node_modules"
    missing = [source for source in manifest["haven"]["serve"].values() if not (modules / source).is_file()]
    if missing:
        print(f"vendor_assets: not in {modules} (run npm ci --prefix assets): {', '.join(missing)}", file=sys.stderr)
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for served, source in manifest["haven"]["serve"].items():
        target = VENDOR / served
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules / source, target)
        package = modules.joinpath(*Path(source).parts[:2 if source.startswith("@") else 1])
        for licence in package.glob("LICEN[SC]E*"):
            shutil.copyfile(licence, target.parent / licence.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
