"""Objects (detection boxes) and label maps: read from a YOLO or COCO dataset, carried through
what an operation painted (geometry), and written back in the dataset's format."""
