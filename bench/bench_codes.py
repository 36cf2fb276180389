"""Codes generated per second into a CSV print file (serial,code,display,url).

    .venv/bin/python bench/bench_codes.py            # 1 million codes
    .venv/bin/python bench/bench_codes.py --full     # 10 million (the goal: under a minute on 2 cores)
    .venv/bin/python bench/bench_codes.py --count 3000000 --out /tmp/codes.csv

It runs exactly what `flask codes generate` and the print-file job run
(`codes.scheme.write_csv`): the Feistel rounds vectorised over numpy arrays
with one AES-ECB call per round per chunk, lines assembled as uint8 rows,
written in big chunks. It also times decoding single codes (what a
registration does) and checks a sample of lines against the one-at-a-time
encoder.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from codes.scheme import CodeScheme, parse_keys, write_csv

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--full", action="store_true", help="10 million codes")
    parser.add_argument("--out", default=str(OUT / "bench_codes.csv"))
    parser.add_argument("--keep", action="store_true", help="keep the CSV file")
    args = parser.parse_args()
    count = 10_000_000 if args.full else args.count
    scheme = CodeScheme(parse_keys("1:" + os.urandom(32).hex()))
    batch, prefix = 4242, "https://club.example.ru/c/"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    with open(args.out, "wb", buffering=1 << 22) as out:
        write_csv(out, scheme, 1, batch, 1, count, prefix)
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - started
    size = os.path.getsize(args.out)

    rng = random.Random(1)
    checked = 0
    with open(args.out, "rb") as written:
        header = written.readline()
        assert header == b"serial,code,display,url\n"
        for line_number, line in enumerate(written, start=1):
            if line_number % max(1, count // 1000) == 0 or line_number == count:
                serial, code, _display, url = line.decode().rstrip("\n").split(",")
                assert int(serial) == line_number and code == scheme.encode(batch, line_number, 1)
                assert url == prefix + code
                checked += 1
    lines = line_number

    samples = [scheme.encode(batch, rng.randint(1, count), 1) for _ in range(20_000)]
    decode_started = time.perf_counter()
    for code in samples:
        scheme.decode(code)
    decode_seconds = time.perf_counter() - decode_started

    print(f"codes written:      {lines:,} ({size / 1e6:,.0f} MB CSV, {checked} lines checked)")
    print(f"generation time:    {seconds:.2f} s (including fsync)")
    print(f"codes per second:   {lines / seconds:,.0f}")
    print(f"10 million would take about {10_000_000 / (lines / seconds):.1f} s (goal: under 60 s)")
    print(f"decode one code:    {decode_seconds / len(samples) * 1e6:.1f} µs")
    if not args.keep:
        os.remove(args.out)


if __name__ == "__main__":
    main()
