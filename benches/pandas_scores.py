#!/usr/bin/env python3
"""The alternative a data-savvy team lead would write: cs-score's quarterly or annual points,
KPI, score and rank (no awards) in pandas, for the whole-process comparison in compare.sh.

    python3 benches/pandas_scores.py WORKSPACE 2009Q2 > scores.csv
    python3 benches/pandas_scores.py WORKSPACE 2009 --check cs-score-year.csv

The rules (SPEC § 4, built-in rubric): a month's points are the sheet's `points`, or the sum
of the person's post-table items (好人好事 included); quarterly points = the mean of the months
present, KPI = the quarterly export if there is one, else the mean of the monthly KPI; each
rounded half-up to 2 decimals, score = round(points × 0.4 + KPI × 0.6). The year: points =
the sum of the quarterly points, KPI = the mean of the quarterly KPI. Rank = 1 + the number
strictly ahead by (score, KPI, points). Only people active in the period are listed.

Every value in the files has at most one decimal, so the script works in integer tenths and
hundredths (exact, and vectorised): no float rounding error can flip a half-up. With --check
FILE (cs-score's `--format csv` output for the same period) it compares every person's
points, kpi, score and rank and exits 1 on any difference.
"""

import argparse
import os
import sys

import numpy as np
import pandas as pd

# The built-in rubric's points tables (rubrics/hecheng-2009.toml), bonus item included.
TABLES = {
    "营业员": ["服务规范", "业务准确", "客户满意度", "营销指标", "好人好事"],
    "客服代表": ["通话质量", "服务态度", "回访满意度", "话务指标", "好人好事"],
}


def half_up_div(num, den):
    """round_half_up(num / den) for non-negative integers held in float64 (NaN stays NaN)."""
    return np.floor((2 * num + den) / (2 * den))


def tenths(column):
    return (column.astype(float) * 10).round()


def read(ws, relative):
    path = os.path.join(ws, "data", relative)
    return pd.read_csv(path, dtype={"id": str}) if os.path.exists(path) else None


def month_points(ws, month, post_of):
    """id → points of one month in tenths (NaN-free), or None without a sheet."""
    df = read(ws, f"points/{month}.csv")
    if df is None:
        return None
    value = tenths(df["points"]) if "points" in df else pd.Series(np.nan, index=df.index)
    post = df["id"].map(post_of)
    for name, items in TABLES.items():
        cols = [c for c in items if c in df]
        if cols:
            total = df[cols].astype(float).mul(10).round().sum(axis=1, min_count=1)
            value = value.fillna(total.where(post == name))
    return pd.Series(value.to_numpy(), index=df["id"]).dropna()


def kpi_tenths(ws, relative):
    df = read(ws, relative)
    return None if df is None else pd.Series(tenths(df["kpi"]).to_numpy(), index=df["id"]).dropna()


def mean_hundredths(columns):
    """Half-up mean, in hundredths, of the present values of tenths columns (id-aligned)."""
    columns = [c for c in columns if c is not None]
    if not columns:
        return pd.Series(dtype=float)
    frame = pd.concat(columns, axis=1)
    return half_up_div(frame.sum(axis=1) * 10, frame.count(axis=1)).where(frame.count(axis=1) > 0)


def active(roster, first, last):
    """People active in [first, last] (ISO date text compares as dates)."""
    return roster[(roster["joined"] <= last) & ((roster["left"] == "") | (roster["left"] >= first))]


def score(points, kpi):
    return half_up_div(4 * points + 6 * kpi, 10)


def quarter(ws, year, q, roster):
    months = [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
    post_of = roster.set_index("id")["post"]
    points = mean_hundredths([month_points(ws, m, post_of) for m in months])
    quarterly = kpi_tenths(ws, f"kpi/{year}Q{q}.csv")
    if quarterly is not None:
        kpi = quarterly * 10
    else:
        kpi = mean_hundredths([kpi_tenths(ws, f"kpi/{m}.csv") for m in months])
    people = active(roster, f"{year}-{3 * q - 2:02d}-01", f"{year}-{3 * q:02d}-31")["id"]
    out = pd.DataFrame({"points": points.reindex(people), "kpi": kpi.reindex(people)}, index=people)
    out["score"] = score(out["points"], out["kpi"])
    return out


def year(ws, y, roster):
    quarters = [quarter(ws, y, q, roster) for q in range(1, 5)]
    people = active(roster, f"{y}-01-01", f"{y}-12-31")["id"]
    points = pd.concat([q["points"] for q in quarters], axis=1).sum(axis=1, min_count=1)
    kpis = pd.concat([q["kpi"] for q in quarters], axis=1)
    kpi = half_up_div(kpis.sum(axis=1), kpis.count(axis=1)).where(kpis.count(axis=1) > 0)
    out = pd.DataFrame({"points": points.reindex(people), "kpi": kpi.reindex(people)}, index=people)
    out["score"] = score(out["points"], out["kpi"])
    return out


def rank(out):
    # Hundredths are whole numbers below 2^17 (points, KPI) and 2^16 (score): one exact key.
    key = out["score"] * 2.0**34 + out["kpi"] * 2.0**17 + out["points"]
    out["rank"] = key.where(out["score"].notna()).rank(method="min", ascending=False)
    return out.sort_values(["rank", "id"], na_position="last")


def text(column):
    """Hundredths → `92.17`; rank → `3`; NaN → `` (vectorised)."""
    present = column.notna()
    v = column.fillna(0).astype(np.int64)
    if column.name == "rank":
        shown = v.astype(str)
    else:
        shown = (v // 100).astype(str) + "." + (v % 100).astype(str).str.zfill(2)
    return shown.where(present, "")


def check(result, cs_file):
    cs = pd.read_csv(cs_file, dtype=str, keep_default_na=False).set_index("id")
    ours = pd.DataFrame({c: text(result[c]) for c in ["points", "kpi", "score", "rank"]})
    problems = []
    missing, extra = cs.index.difference(ours.index), ours.index.difference(cs.index)
    if len(missing) or len(extra):
        problems.append(f"people differ: only in cs-score {list(missing[:5])}, only here {list(extra[:5])}")
    common = cs.index.intersection(ours.index)
    for c in ["points", "kpi", "score", "rank"]:
        differ = common[cs.loc[common, c].to_numpy() != ours.loc[common, c].to_numpy()]
        for i in differ[:5]:
            problems.append(f"{i} {c}: cs-score {cs.at[i, c]!r}, pandas {ours.at[i, c]!r}")
        if len(differ) > 5:
            problems.append(f"… {len(differ)} differences in {c}")
    if problems:
        print(f"pandas_scores: DISAGREE with {cs_file}:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"pandas_scores: agree with {cs_file}: {len(common)} people, points/kpi/score/rank identical")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace")
    ap.add_argument("period", help="YYYY or YYYYQn")
    ap.add_argument("--check", metavar="CS_SCORE_CSV", help="cs-score's --format csv output to compare with")
    args = ap.parse_args()
    roster = pd.read_csv(os.path.join(args.workspace, "data", "roster.csv"), dtype=str, keep_default_na=False)
    roster["id"] = roster["id"].str.strip()
    p = args.period.upper()
    if "Q" in p:
        y, q = p.split("Q")
        result = quarter(args.workspace, int(y), int(q), roster)
    else:
        result = year(args.workspace, int(p), roster)
    result.index.name = "id"
    result = rank(result.reset_index())
    if args.check:
        return check(result.set_index("id"), args.check)
    out = pd.DataFrame({"id": result["id"], **{c: text(result[c]) for c in ["points", "kpi", "score", "rank"]}})
    out.to_csv(sys.stdout, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
