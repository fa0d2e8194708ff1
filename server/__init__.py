"""Haven: a Linked Data publication about militant organisations.

The package is imported as ``haven`` (it lives in the ``server/`` folder of the checkout).
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("haven")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
