#!/usr/bin/env python3
"""links_summary.py: summarise a bench/run.sh report made with BENCH_CL_LINKS (several C1-C4
clusters, each with its own kind of peer link): per kind, the median of each headline figure,
and the median of the per-round ratios against a base kind (runs taken in consecutive rounds
of as many runs as there are kinds, each round holding every kind once, in a rotating
order), which cancels the load drift between rounds on a shared machine.

    BENCH_PART=cluster BENCH_CL_MAIN_ONLY=1 \
        BENCH_CL_LINKS="unsealed sealed tls  tls unsealed sealed  sealed tls unsealed ..." \\
        bench/run.sh > report.txt
    bench/links_summary.py report.txt [BASE_KIND]      (BASE_KIND: the ratios' denominator,
                                                        default sealed)
"""
import re
import statistics
import sys

FIGURES = [
    # (name, regex on a line, group, section, occurrence within the section)
    ("C2 a->b all on CPU 0, p50 (us)", r"a -> b, all on CPU 0\s+p50\s+([\d.]+)", "C2", 0),
    ("C2 a->b all on CPU 0, p99 (us)", r"a -> b, all on CPU 0\s+p50\s+[\d.]+ µs\s+p99\s+([\d.]+)", "C2", 0),
    ("C2 all on CPU 0, CPU time per sample, 3 nodes (us)", r"CPU time per sample:\s+a\s+([\d.]+) µs, b\s+([\d.]+) µs, c\s+([\d.]+)", "C2", 0),
    ("C2 a->b unpinned, p50 (us)", r"a -> b, unpinned\s+p50\s+([\d.]+)", "C2", 0),
    ("C2 unpinned, CPU time per sample, 3 nodes (us)", r"CPU time per sample:\s+a\s+([\d.]+) µs, b\s+([\d.]+) µs, c\s+([\d.]+)", "C2", 3),
    ("C4 pinned, acknowledged (/s)", r"3 nodes at once, total\s+(\d+) registrations/s acknowledged", "C4", 0),
    ("C4 pinned, replicated (/s)", r"^\s+(\d+) registrations/s replicated", "C4", 0),
    ("C4 unpinned, acknowledged (/s)", r"3 nodes at once, total\s+(\d+) registrations/s acknowledged", "C4", 1),
    ("C4 unpinned, replicated (/s)", r"^\s+(\d+) registrations/s replicated", "C4", 1),
]


def runs_of(text):
    """Splits the report at each '(C1-C4 cluster: peer links KIND: ...)' line."""
    parts = re.split(r"^\s+\(C1-C4 cluster: peer links (\w+):.*$", text, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def figure(body, regex, section, occurrence):
    sec = re.split(r"^== (C\d)\.", body, flags=re.M)
    chunks = [sec[i + 1] for i in range(1, len(sec) - 1, 2) if sec[i] == section]
    if not chunks:
        return None
    found = re.findall(regex, chunks[0], flags=re.M)
    if len(found) <= occurrence:
        return None
    v = found[occurrence]
    return sum(float(x) for x in v) if isinstance(v, tuple) else float(v)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    base = sys.argv[2] if len(sys.argv) > 2 else "sealed"
    runs = runs_of(text)
    kinds = sorted({k for k, _ in runs}, key=lambda k: (k != base, k))
    print(f"{len(runs)} runs: " + ", ".join(f"{k} x{sum(1 for r in runs if r[0] == k)}" for k in kinds))
    print("| figure | " + " | ".join(f"{k} (median)" for k in kinds) + " | " +
          " | ".join(f"{k}/{base} (median round ratio)" for k in kinds if k != base) + " |")
    print("| --- " * (1 + 2 * len(kinds) - 1) + "|")
    for name, regex, section, occ in FIGURES:
        vals = {k: [figure(b, regex, section, occ) for kk, b in runs if kk == k] for k in kinds}
        meds = []
        for k in kinds:
            v = [x for x in vals[k] if x is not None]
            meds.append(f"{statistics.median(v):,.1f}" if v else "-")
        ratios = []
        for k in kinds:
            if k == base:
                continue
            rs = []
            g = len(kinds)
            for i in range(0, len(runs) - g + 1, g):
                pair = dict(runs[i:i + g])
                if k in pair and base in pair:
                    a = figure(pair[k], regex, section, occ)
                    b = figure(pair[base], regex, section, occ)
                    if a is not None and b:
                        rs.append(a / b)
            ratios.append(f"{statistics.median(rs):.3f} (n={len(rs)})" if rs else "-")
        print(f"| {name} | " + " | ".join(meds) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main()
