"""Jimu core kernel. Plugins never import this package; they use ``jimu_sdk``."""

from jimu.version import CORE_API_VERSION, __version__

__all__ = ["CORE_API_VERSION", "__version__"]
