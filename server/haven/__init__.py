"""Haven: a Linked Data publication about militant organisations.

The package is imported as ``haven`` (it lives in the ``server/`` folder of the checkout).
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("haven")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"


def __getattr__(name):
    # create_app is imported on first use so that `import haven` (CLI, pipeline, query workers) stays light
    if name == "create_app":
        from haven.web.app import create_app

        return create_app
    raise AttributeError(f"module 'haven' has no attribute {name!r}")


__all__ = ["__version__", "create_app"]
