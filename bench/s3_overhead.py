#!/usr/bin/env python3
"""What an object store costs: mixcli with DATA and OUT in S3 (moto's server on 127.0.0.1) against
the same run between local folders, on workload (a) (500x375 photos, mixup --alpha 0.2,
--workers 2), and the S3 requests a run makes, counted in the server's log.

    python bench/s3_overhead.py                        # 300/1000 photos, 3 repetitions
    python bench/s3_overhead.py --sizes 100 300 --reps 1
    python bench/s3_overhead.py --latency-ms 20        # S3 behind 20 ms each way (a far region)
    python bench/s3_overhead.py --mixcli-src /tmp/old  # mixcli from another source tree

Starts moto's server (`python -m moto.server -H 127.0.0.1`), uploads the corpora, runs the two
contenders alternating, and stops it. Per-image cost is the slope between the two sizes
(start-up apart); medians. moto is a Python server on the same cores as mixcli: its time is
in the S3 figures, so they are an upper bound of what mixcli adds, not a forecast for AWS.
--latency-ms D puts a relay in between that holds every byte D ms on its way each way
(latency, not bandwidth), as the network to a store does.
Needs `pip install 'mixcli[s3]' 'moto[s3]' flask flask-cors`.
"""

import argparse
import collections
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from pairs import alternate, slopes
from run import mixcli_cmd  # bench/ is on the path of a script run from it

HERE = Path(__file__).resolve().parent
PY = sys.executable
MIXCLI = mixcli_cmd()
BUCKET = "bench"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs=2, default=[300, 1000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--port", type=int, default=5099)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--mixcli-src", help="run mixcli from this source tree (python -m mixcli with it first on PYTHONPATH)")
    args = ap.parse_args(argv)
    global MIXCLI
    if args.mixcli_src:
        MIXCLI = [PY, "-m", "mixcli"]
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [args.mixcli_src, os.environ.get("PYTHONPATH")]))
    made = subprocess.run([PY, str(HERE / "make_corpus.py"), "a", *map(str, args.sizes)], stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()
    data = {n: line.split("\t")[0] for n, line in zip(args.sizes, made)}
    work = Path("/tmp/mixcli_s3_bench")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    endpoint = args.port + 1 if args.latency_ms else args.port
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{endpoint}", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    os.environ.update(env)
    log = open(work / "moto.log", "wb")
    server = subprocess.Popen([PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(args.port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(args.port)
        time.sleep(0.5)
        if server.poll() is not None:
            raise SystemExit(f"moto's server did not start (is port {args.port} taken?)")
        if args.latency_ms:
            _relay(endpoint, args.port, args.latency_ms / 1e3)
        import fsspec

        fs = fsspec.filesystem("s3")
        fs.mkdir(BUCKET)
        for n in args.sizes:
            root = Path(data[n])
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    fs.pipe_file(f"{BUCKET}/n{n}/{p.relative_to(root).as_posix()}", p.read_bytes())
        common = ["mixup", "--alpha", "0.2", "--workers", "2", "--quiet", "--overwrite"]
        contenders = {
            "local folders": lambda n: MIXCLI + [common[0], data[n], str(work / "out"), *common[1:]],
            "S3 (moto)": lambda n: MIXCLI + [common[0], f"s3://{BUCKET}/n{n}", f"s3://{BUCKET}/out", *common[1:]],
        }
        for c, cmd in contenders.items():  # warm-up
            subprocess.run(cmd(args.sizes[0]), check=True, env=env, cwd=work)  # cwd: not a folder holding mixcli/
        def clear(_) -> None:
            shutil.rmtree(work / "out", ignore_errors=True)
            if fs.exists(f"{BUCKET}/out"):
                fs.rm(f"{BUCKET}/out", recursive=True)

        runs = alternate(contenders, args.sizes, args.reps, clear, env=env, cwd=work)
        fs.rm(f"{BUCKET}/out", recursive=True)
        log.flush()
        before = (work / "moto.log").stat().st_size
        subprocess.run(contenders["S3 (moto)"](args.sizes[0]), check=True, env=env, cwd=work)
        log.flush()
        requests = _count(work / "moto.log", before)
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    n0, n1 = args.sizes
    print(f"\n{os.cpu_count()} cores, --workers 2, latency {args.latency_ms:g} ms each way, medians of {args.reps}:")
    med, slope = slopes(runs, contenders, args.sizes)
    s, l = "S3 (moto)", "local folders"
    print(f"  S3 / local: per image {slope[s] / slope[l]:.2f}x, whole run on {n1} {med[s, n1] / med[l, n1]:.2f}x")
    print(f"\nrequests of one S3 run on {n0} photos:")
    for (method, kind), count in sorted(requests.items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d} {method:<6} {kind}")
    return 0


def _relay(port: int, target: int, delay: float) -> None:
    """Forward 127.0.0.1:port to 127.0.0.1:target, every byte held `delay` s each way, in a daemon thread."""
    import asyncio
    import threading

    async def pipe(src, dst) -> None:
        queue: asyncio.Queue = asyncio.Queue()

        async def forward() -> None:
            while (item := await queue.get()) is not None:
                due, data = item
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                dst.write(data)
                await dst.drain()
            dst.close()

        sender = asyncio.ensure_future(forward())
        while data := await src.read(1 << 16):
            queue.put_nowait((time.monotonic() + delay, data))
        queue.put_nowait(None)
        await sender

    async def handle(reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    def serve() -> None:
        async def main() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", port)
            async with server:
                await server.serve_forever()

        asyncio.run(main())

    threading.Thread(target=serve, daemon=True).start()
    _wait_for(port)


def _wait_for(port: int) -> None:
    end = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise SystemExit("moto's server did not start")
            time.sleep(0.1)


def _count(log: Path, offset: int) -> collections.Counter:
    """(method, what) -> requests, from the server's access log past offset."""
    found = collections.Counter()
    with open(log, "rb") as f:
        f.seek(offset)
        text = re.sub(r"\x1b\[[0-9;]*m", "", f.read().decode(errors="replace"))
    for method, path in re.findall(r'"([A-Z]+) (\S+) HTTP', text):
        kind = ("listing" if "list-type" in path else "journal" if ".journal/" in path else "output image" if "/out/images/" in path
                else "input image" if re.search(r"/n\d+/train/", path) else "run state" if "/.mixcli/" in path else "other")
        found[method, kind] += 1
    return found


if __name__ == "__main__":
    sys.exit(main())
