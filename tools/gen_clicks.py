#!/usr/bin/env python3
"""Writes N rows of the click CSV the nightly analysis produces, with its header line:

    campaign_id,num_clicks,start_time,end_time

Deterministic for a given N and --seed. About 88 bytes a row (4,000,000 rows: ~355 MB).
A small share of end_time values is empty, which --copy-options "CSV NULL ''" loads as NULL.

usage: gen_clicks.py N PATH [--seed S]    (PATH "-" writes to stdout)
"""
import argparse
import random
import sys
import time

BASE = 1543622400  # 2018-12-01T00:00:00Z


def rows(n, seed):
    rnd = random.Random(seed)
    bits = rnd.getrandbits
    randint = rnd.randint
    gmtime = time.gmtime
    for _ in range(n):
        h = "%032x" % bits(128)
        start = BASE + bits(22)
        s = gmtime(start)
        start_s = "%04d-%02d-%02d %02d:%02d:%02d+00" % s[:6]
        if randint(0, 49) == 0:
            end_s = ""
        else:
            e = gmtime(start + bits(12))
            end_s = "%04d-%02d-%02d %02d:%02d:%02d+00" % e[:6]
        yield "%s-%s-%s-%s-%s,%d,%s,%s\n" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:], bits(13), start_s, end_s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int)
    ap.add_argument("path")
    ap.add_argument("--seed", type=int, default=20181220)
    a = ap.parse_args()
    out = sys.stdout if a.path == "-" else open(a.path, "w", encoding="ascii", newline="")
    with out:
        out.write("campaign_id,num_clicks,start_time,end_time\n")
        batch = []
        for line in rows(a.n, a.seed):
            batch.append(line)
            if len(batch) >= 10000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))


if __name__ == "__main__":
    main()
