"""mixcli's version (the run record holds it: a run is resumed only by the version that started it)."""

__version__ = "0.6.0"
