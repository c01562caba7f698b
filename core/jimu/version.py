"""Versions: the distribution's, and the core API version plugins declare against."""

__version__ = "0.1.0"

CORE_API_VERSION = "1.0"
"""Bumped in its major part when a hookspec or public type changes incompatibly."""
