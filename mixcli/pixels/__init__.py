"""The pixels: decoding and encoding images (codec, jpeg) and the mixing kernels (kernels, checked).

Light to import: the limits and formats below are read by option checks before anything runs.
"""

# 2 x PIL's MAX_IMAGE_PIXELS, the usual decompression-bomb line; also OpenCV's own limit.
MAX_PIXELS = 178_956_970
FORMATS = {"jpg": ".jpg", "png": ".png"}  # output formats and their file suffixes
INTERPOLATIONS = ("auto", "area", "linear", "cubic", "nearest")  # --interpolation; auto: area shrinking, else linear
