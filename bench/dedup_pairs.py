#!/usr/bin/env python3
"""Issue 4's "10M sweep ≤ 12× the 1M sweep", measured the way ADR 0003 says: in pairs.

usage: bench/dedup_pairs.py --bin CRM_HYGIENE --gen GEN_CONTACTS
                            --large-work DIR --small-work DIR [--large 10000000] [--small 1000000]
                            [--pools 4G,256M] [--pairs 8] [--out PATH]

Each database must have had its first sweep already (`bench/dedup_scale.py … --steps
gen,load,dedup`): a pair measures the repeated sweep. One pair, for one buffer pool:
  1. `dedup_scale.py --steps repeat` on the large CRM, its server started with that pool (and
     stopped after);
  2. the small CRM's server restarted with the same pool, then `--steps repeat` on it twice: the
     first finds its data cold after the large run (on the reference host a DAMON pageout
     scheme keeps the page cache near 6.8 GB), the second is the one counted.
The ratio is the large run's `sweep_seconds` over the counted small run's. With several pools,
the rounds alternate them (round 1: each pool once, in the order given; round 2: the same …),
so a slow spell of the host falls on both.

Printed and written to --out (JSON): every pair (both sweeps, their read + prepare, the bare
reads around them, the ratio) and per pool the pairs' median (what ADR 0003 holds to the
target), their range, and the ratio of the fastest large sweep to the fastest counted small
one. On a shared host a pair's ratio moves with the host's load (8.0–16.1× in session 21, both
pools): take at least eight pairs per pool in one window.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from dedup_scale import Server  # bench/ is sys.path[0] when this script runs

HERE = os.path.dirname(os.path.abspath(__file__))


def repeat(a, work, contacts, pool, keep_server):
    """One `dedup_scale.py --steps repeat`; returns its numbers from results-N.json."""
    argv = [sys.executable, os.path.join(HERE, "dedup_scale.py"), "--bin", a.bin, "--gen", a.gen,
            "--work", work, "--contacts", str(contacts), "--steps", "repeat",
            "--buffer-pool", pool] + (["--keep-server"] if keep_server else [])
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    res = json.load(open(os.path.join(work, f"results-{contacts}.json")))["dedup_repeat"]
    if res.get("status") != "ok" or "sweep_seconds" not in res.get("counts", {}):
        raise SystemExit(f"the {contacts} sweep did not finish: {json.dumps(res)[:2000]}")
    return {"sweep_seconds": res["counts"]["sweep_seconds"],
            "read_prepare_seconds": round(res["read_prepare_seconds"], 1),
            "bare_reads": [res["read_before_s"], res["read_after_s"]],
            "wall_s": res["wall_s"], "peak_rss_mib": res["peak_rss_mib"]}


def stop_server(work):
    """Stops the private server dedup_scale.py keeps in WORK/mariadb (the pool is read at start)."""
    Server(os.path.join(work, "mariadb"), pool=None).stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--large-work", required=True)
    ap.add_argument("--small-work", required=True)
    ap.add_argument("--large", type=int, default=10_000_000)
    ap.add_argument("--small", type=int, default=1_000_000)
    ap.add_argument("--pools", default="4G,256M")
    ap.add_argument("--pairs", type=int, default=8, help="pairs per pool")
    ap.add_argument("--out")
    a = ap.parse_args()
    pools = [p for p in a.pools.split(",") if p]
    large_work, small_work = os.path.abspath(a.large_work), os.path.abspath(a.small_work)
    out = {"large": a.large, "small": a.small, "pairs": []}

    def save():
        if a.out:
            json.dump(out, open(a.out, "w"), indent=1)

    for rnd in range(1, a.pairs + 1):
        for pool in pools:
            started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            stop_server(large_work)
            large = repeat(a, large_work, a.large, pool, keep_server=False)
            stop_server(small_work)
            small_cold = repeat(a, small_work, a.small, pool, keep_server=True)
            small = repeat(a, small_work, a.small, pool, keep_server=True)
            ratio = round(large["sweep_seconds"] / small["sweep_seconds"], 1)
            out["pairs"].append({"round": rnd, "pool": pool, "started": started, "large": large,
                                 "small_cold": small_cold, "small": small, "ratio": ratio})
            print(f"{started} pool {pool}: {a.large} sweep {large['sweep_seconds']} s "
                  f"(bare reads {large['bare_reads']}), {a.small} sweep "
                  f"{small_cold['sweep_seconds']} then {small['sweep_seconds']} s → {ratio}×",
                  flush=True)
            save()
    stop_server(small_work)

    out["by_pool"] = {}
    for pool in pools:
        mine = [p for p in out["pairs"] if p["pool"] == pool]
        ratios = [p["ratio"] for p in mine]
        fastest = (min(p["large"]["sweep_seconds"] for p in mine) /
                   min(p["small"]["sweep_seconds"] for p in mine))
        out["by_pool"][pool] = {"pairs": len(ratios), "median": round(statistics.median(ratios), 1),
                                "min": min(ratios), "max": max(ratios),
                                "fastest_over_fastest": round(fastest, 1)}
        print(f"pool {pool}: {json.dumps(out['by_pool'][pool])}", flush=True)
    save()


if __name__ == "__main__":
    main()
