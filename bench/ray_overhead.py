#!/usr/bin/env python3
"""What Ray costs: mixcli with --distributor ray (2 tasks of 1 thread at a time, on a local Ray
of 2 CPUs) against --workers 2 locally, on workload (a) (500x375 photos, mixup --alpha 0.2).

    python bench/ray_overhead.py                       # 1000/3000 photos, 3 repetitions
    python bench/ray_overhead.py --sizes 100 300 --reps 1

Starts a Ray head on 127.0.0.1 (`ray start --head`), runs the two contenders alternating, and
stops it. Per-image cost is the slope between the two sizes (start-up apart: Ray's connection
is in the fixed cost); medians. Needs `pip install 'mixcli[ray]'`.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pairs import alternate, slopes
from run import mixcli_cmd  # bench/ is on the path of a script run from it

HERE = Path(__file__).resolve().parent
PY = sys.executable
MIXCLI = mixcli_cmd()
RAY = str(Path(PY).with_name("ray")) if Path(PY).with_name("ray").is_file() else "ray"
# Loopback only, and no token (a head on 127.0.0.1 that this script starts and stops).
ENV = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[1000, 3000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--shard-size", type=int, default=256)
    ap.add_argument("--port", type=int, default=6390)
    args = ap.parse_args(argv)
    made = subprocess.run([PY, str(HERE / "make_corpus.py"), "a", *map(str, args.sizes)], stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    data = {n: line.split("\t")[0] for n, line in zip(args.sizes, made)}
    out = Path("/tmp/mixcli_ray_bench")
    address = f"127.0.0.1:{args.port}"
    subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(args.port), "--num-cpus", "2",
                    "--include-dashboard", "false", "--disable-usage-stats"], check=True, env=ENV, stdout=subprocess.DEVNULL)
    try:
        common = ["mixup", "--alpha", "0.2", "--shard-size", str(args.shard_size), "--quiet", "--overwrite"]
        contenders = {
            "local --workers 2": lambda n: MIXCLI + [common[0], data[n], str(out / "local"), *common[1:], "--workers", "2"],
            "ray, 2 tasks of 1": lambda n: MIXCLI + [common[0], data[n], str(out / "ray"), *common[1:], "--distributor", "ray", "--ray-address", address],
        }
        for c, cmd in contenders.items():  # warm-up
            subprocess.run(cmd(args.sizes[0]), check=True, env=ENV)
        clear = lambda c: shutil.rmtree(out / ("local" if c.startswith("local") else "ray"), ignore_errors=True)  # noqa: E731
        runs = alternate(contenders, args.sizes, args.reps, clear, env=ENV)
    finally:
        subprocess.run([RAY, "stop", "--force"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(out, ignore_errors=True)
    n0, n1 = args.sizes
    print(f"\n{os.cpu_count()} cores, shard size {args.shard_size}, medians of {args.reps}:")
    med, slope = slopes(runs, contenders, args.sizes)
    r, l = "ray, 2 tasks of 1", "local --workers 2"
    print(f"  Ray / local: per image {slope[r] / slope[l]:.2f}x, whole run on {n1} {med[r, n1] / med[l, n1]:.2f}x, fixed cost +{(med[r, n0] - slope[r] * n0 / 1e3) - (med[l, n0] - slope[l] * n0 / 1e3):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
