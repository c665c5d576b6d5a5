"""Center server: app factory, queue engine, storage, API, events and the dostq command."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One number for `dostq --version`, every staff page's footer and the record HQ keeps.
    VERSION = version("dost-queue")
except PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "0+source"
