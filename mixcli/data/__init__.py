"""The data side: the dataset read (a CSV or class folders), its labels, and train.csv's rows written."""

STDIN = "-"  # --csv -: the CSV comes on standard input
