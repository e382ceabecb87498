"""OUT: the one object that names everything under the output folder and does every operation on it."""

from .folder import Out

__all__ = ["Out"]
