#!/usr/bin/env bash
# Rebuild the README's contact sheets (docs/preview_<op>.png) from sample_data/: bash docs/make_previews.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for op in mixup cutmix mix resizemix mosaic fmix cutout; do
    mixcli preview sample_data --op "$op" -n 6 --seed 0 -o "docs/preview_$op.png"
done
# The detection example's sheet: mosaic on the YOLO sample (sample_data/make_detection_sample.py), boxes drawn
mixcli preview sample_data/yolo --op mosaic -n 6 --seed 0 -o docs/preview_mosaic_boxes.png
