"""mixcli: MixUp, CutMix and the other mixing operations, from a labelled image folder to a new dataset with soft labels, on disk."""

__version__ = "0.2.0"
