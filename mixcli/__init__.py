"""mixcli: MixUp and CutMix a labelled image folder into a new dataset with soft labels, on disk."""

__version__ = "0.1.0"
