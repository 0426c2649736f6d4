#!/usr/bin/env python3
"""Renders the results of benches/compare.sh as markdown: medians, ratios, peak RSS, the
files read, the agreement checks and the issue's targets.

    python3 benches/compare_report.py OUT_DIR      # OUT_DIR holds results.tsv and files.tsv
"""

import csv
import os
import sys


def secs(v):
    v = float(v)
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def mb(kb):
    return f"{int(kb) / 1024:.0f} MB" if kb else "—"


def times(ratio):
    return f"{ratio:.2f}×" if ratio < 1 else f"{ratio:.1f}×"


def main(out):
    rows = list(csv.DictReader(open(os.path.join(out, "results.tsv")), delimiter="\t"))
    files = {}
    for line in open(os.path.join(out, "files.tsv")):
        size, _, period, text = line.rstrip("\n").split("\t")
        group = {"2009": "year", "2009Q2": "quarter"}[period]
        files[(size, group)] = text
        files[(size, f"{group}-cold")] = text
    meta_file = os.path.join(out, "meta.tsv")
    meta = dict(line.rstrip("\n").split("\t", 1) for line in open(meta_file)) if os.path.exists(meta_file) else {}
    if meta:
        print(f"Run {meta['started']} on {meta['cpu']}, {meta['memory']}; load average at the start "
              f"{meta['load']}; {meta['python']}; cs-score: {meta.get('binary', 'the release build')}.\n")

    def input_bytes(key):
        text = files.get(key, "")
        return int(text.split(", ")[-1].split()[0]) if text else None

    floor = {(r["size"], r["group"]): r for r in rows if r["kind"] == "floor" and r["status"] == "ok"}
    cs = {(r["size"], r["group"]): r for r in rows if r["kind"] == "cs" and r["status"] == "ok"}
    print(f"Medians by {meta.get('timer', '?')}; peak RSS from `/usr/bin/time -v` (one run). × parse floor: the "
          "median ÷ the parse floor's on the same files; pandas ÷ cs-score: how many times longer pandas takes.\n")
    print("| people | command | runs | median | input MB/s | × parse floor | pandas ÷ cs-score | peak RSS |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if r["kind"] == "check":
            continue
        key = (r["size"], r["group"])
        people = f"{int(r['size']):,}" if r["size"].isdigit() else "example (25)"
        if r["status"] == "timeout":
            print(f"| {people} | {r['label']} | — | > {float(r['median']):.0f} s (stopped) | | | | > {mb(r['rss_kb'])} |")
            continue
        if r["status"] != "ok":
            print(f"| {people} | {r['label']} | — | failed ({r['note']}) | | | | {mb(r['rss_kb'])} |")
            continue
        med = float(r["median"])
        b = input_bytes(key)
        rate = "" if not b or r["kind"] == "pandas" else f"{b / med / 1e6:.1f}" if b / med < 1e7 else f"{b / med / 1e6:.0f}"
        x_floor = times(med / float(floor[key]["median"])) if key in floor else ""
        x_cs = times(med / float(cs[key]["median"])) if r["kind"] == "pandas" and key in cs else ""
        # After a pause, against pandas' own (back-to-back) median.
        cold_key = (r["size"], r["group"] + "-cold")
        if r["kind"] == "pandas" and cold_key in cs:
            x_cs += f"; {times(med / float(cs[cold_key]['median']))} after a pause"
        if r["kind"] == "pandas" and key not in cs:
            x_cs = "(cs-score stopped)"
        print(f"| {people} | {r['label']} | {r['runs']} | {secs(med)} | {rate} | {x_floor} | {x_cs} | {mb(r['rss_kb'])} |")
    print()
    for (size, period), text in files.items():
        if period.endswith("-cold"):
            continue
        print(f"- {int(size):,} people, the files `{'year 2009' if period == 'year' else 'quarter 2009Q2'}` reads: {text}")
    for r in rows:
        if r["kind"] == "check":
            print(f"- {int(r['size']):,} people: {r['label']}: {r['note']}")

    sizes = sorted({int(r["size"]) for r in rows if r["size"].isdigit()})
    if not sizes:
        return
    big = str(sizes[-1])
    print(f"\nTargets (on the largest workspace, {int(big):,} people):\n")

    def verdict(ok):
        return "met" if ok else "**not met**"

    year, yfloor = cs.get((big, "year")), floor.get((big, "year"))
    pandas = next((r for r in rows if r["size"] == big and r["group"] == "year" and r["kind"] == "pandas"), None)
    if year and yfloor:
        x = float(year["median"]) / float(yfloor["median"])
        print(f"- `year 2009` within 2× of the parse floor: {times(x)}: {verdict(x <= 2)}")
    else:
        print("- `year 2009` within 2× of the parse floor: **not met** (cs-score did not finish)")
    if year and pandas and pandas["status"] == "ok":
        x = float(pandas["median"]) / float(year["median"])
        print(f"- `year 2009` at least 30× faster than pandas: {times(x)}: {verdict(x >= 30)}")
    else:
        print("- `year 2009` at least 30× faster than pandas: **not met** (cs-score did not finish)")
    # The same two targets for runs each after a pause (compare.sh's COLD_RUNS).
    cold, cfloor = cs.get((big, "year-cold")), floor.get((big, "year-cold"))
    if cold and cfloor:
        x = float(cold["median"]) / float(cfloor["median"])
        print(f"- each run after a pause, `year 2009` within 2× of the parse floor: {times(x)}: {verdict(x <= 2)}")
        if pandas and pandas["status"] == "ok":
            x = float(pandas["median"]) / float(cold["median"])
            print(f"- each run after a pause, at least 30× faster than pandas: {times(x)}: {verdict(x >= 30)}")
    for r in rows:
        if r["size"] == big and r["kind"] == "cs" and r["rss_kb"]:
            kb = int(r["rss_kb"])
            print(f"- peak memory below 1 GB, `{r['label']}`: {mb(kb)}: {verdict(kb < 1024 * 1024 and r['status'] == 'ok')}")
    rss = {(r["size"], r["group"]): int(r["rss_kb"]) for r in rows if r["kind"] == "cs" and r["status"] == "ok" and r["rss_kb"]}
    for size in map(str, sizes):
        if (size, "year") in rss and (size, "quarter") in rss:
            print(f"- {int(size):,} people: peak RSS of `year 2009` (12 points + 10 KPI files) ÷ `quarter 2009Q2` "
                  f"(3 + 3 files): {times(rss[(size, 'year')] / rss[(size, 'quarter')])}; "
                  f"{rss[(size, 'year')] / int(size):.1f} KB per person for the year")
    ex = next((r for r in rows if r["size"] == "example" and "(table)" in r["label"] and r["status"] == "ok"), None)
    if ex:
        print(f"- `quarter 2009Q2` on the example under 20 ms: {secs(ex['median'])}: {verdict(float(ex['median']) < 0.02)}")


if __name__ == "__main__":
    main(sys.argv[1])
