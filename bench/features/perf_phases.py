#!/usr/bin/python3
"""Splits a `perf record --call-graph dwarf` profile of `sluice training-set` into the phases of
the build (used by bench/features/profile.sh).

    perf_phases.py PERF_SCRIPT_TXT SLUICE_BINARY TRAINING_SET_CPP

PERF_SCRIPT_TXT is `perf script -F comm,tid,ip,sym,dso`. Samples under ReplayAsOf are split by
the engine function they are in; the others by the line of src/engine/training_set.cpp they were
called from (found with addr2line; the call sites are located in TRAINING_SET_CPP by pattern, so
it must be the source the binary was built from). Prints percent of samples and estimated CPU
seconds at the sampling frequency given by $PERF_FREQ (default 400).
"""
import collections
import os
import re
import subprocess
import sys

txt, binary, source = sys.argv[1:4]
freq = float(os.environ.get("PERF_FREQ", "400"))

# Call sites in training_set.cpp: pattern -> phase.
SITES = [
    (r"ScanEvents\(\*db_", "1 scan: events SELECT -> sluice Batch"),
    (r"db_->Query\(spine_sql\)", "2 spine: SELECT __spine -> sluice Batch"),
    (r"LoadSpine\(\)\);", "2 spine: CREATE TEMP TABLE __spine (read the spine)"),
    (r"FROM __spine ORDER BY __row", "4 derived round trip: SELECT spine times"),
    (r"values\[a\]\.ToColumn\(\)", "4 derived round trip: FeatureValues -> Column"),
    (r"CreateTable\(agg_table", "4 derived round trip: CREATE + append __agg"),
    (r"db_->Append\(agg_table", "4 derived round trip: CREATE + append __agg"),
    (r"\" FROM \" \+ agg_table \+ \" ORDER BY __row\"", "4 derived round trip: SELECT ... FROM __agg ORDER BY __row"),
    (r"outputs_\.push_back", "5 output: features -> output Batch"),
    (r"RegisterBatch\(\"__out_", "5 output: features -> output Batch"),
    (r"\"COPY \(\" \+ final_sql", "6 write: COPY (__spine POSITIONAL JOIN __out_i()) TO Parquet"),
]
SORTS = ("merge_sort", "stable_sort", "insertion_sort", "__merge_adaptive", "__move_merge",
         "__inplace_stable", "is_sorted")


def site_lines():
    lines = {}
    text = open(source).read().split("\n")
    for pattern, phase in SITES:
        rx = re.compile(pattern)
        for i, line in enumerate(text, 1):
            if rx.search(line):
                # a statement may span a few lines; the debug line can be any of them
                for k in range(i - 2, i + 3):
                    lines.setdefault(k, phase)
    return lines


def read_samples():
    samples, cur = [], None
    for line in open(txt):
        if not line.strip():
            if cur is not None:
                samples.append(cur)
            cur = None
            continue
        if not line[0].isspace():
            cur = []
            continue
        m = re.match(r"\s*([0-9a-f]+) (.*) \((.*)\)\s*$", line)
        if m and cur is not None:
            cur.append((int(m.group(1), 16), m.group(2), m.group(3)))
    if cur:
        samples.append(cur)
    return samples


_addr = {}


def lines_of(a):
    if a not in _addr:
        out = subprocess.run(["addr2line", "-e", binary, "-i", hex(a - 1)], capture_output=True,
                             text=True).stdout.split("\n")
        found = []
        for x in out:
            m = re.search(r"training_set\.cpp:(\d+)", x)
            if m:
                found.append(int(m.group(1)))
        _addr[a] = found
    return _addr[a]


def refine(phase, j):
    """Splits DuckDB-heavy phases by what DuckDB is doing."""
    if phase.startswith("1 scan"):
        if any(k in j for k in ("Column::Append", "PushValid", "AppendFixedRaw", "ConvertChunk")):
            return phase + ": copy into sluice Columns (growth, validity bits)"
        if any(k in j for k in ("ColumnDataCollection", "ColumnDataCopy", "BufferedData")):
            return phase + ": DuckDB result buffering"
        if any(k in j for k in ("ZSTD_decompress", "ParquetReader", "ColumnReader", "TableScan")):
            return phase + ": read + decode Parquet"
        return phase + ": other"
    if phase.startswith("6 write"):
        if any(k in j for k in ("ZSTD_compress", "HUF_", "FSE_", "HIST_")):
            return phase + ": zstd compression"
        if any(k in j for k in ("ColumnWriter", "ParquetWriter", "MemoryStream", "WritePlain")):
            return phase + ": Parquet encoding"
        if any(k in j for k in ("TupleData", "Sort", "HashJoin", "PerfectHash", "Partitioned",
                                "PositionalJoin", "ColumnDataCollection")):
            return phase + ": positional join"
        if any(k in j for k in ("BatchScan", "FillChunk", "TableScan")):
            return phase + ": read __spine and the features"
        return phase + ": other"
    return phase


def classify(s, sites):
    return refine(classify_phase(s, sites), " | ".join(f[1] for f in s))


def classify_phase(s, sites):
    syms = [f[1] for f in s]
    j = " | ".join(syms)
    # Replay phases; worker threads' stacks start at the phase's own lambda, so each phase is
    # recognised by its function name wherever the sample was taken.
    if any(k in j for k in ("ReplayAsOf", "::Replay(", "GroupEvents", "GroupByKey", "OrderByTime",
                            "Gather", "KeyIndex", "DropNullTimes", "EntityAggregator")):
        if "OrderByTime" in j:
            if any(k in j for k in SORTS + ("std::sort", "__introsort", "__insertion_sort")):
                return "3 replay: sort the keys not already in time order (events, spine)"
            return "3 replay: times into key order, sortedness check (events, spine)"
        if "Gather" in j:
            if s and s[0][2].startswith("[kernel"):
                return "3 replay: gather event inputs into key order: page faults"
            return "3 replay: gather event inputs into key order: copying"
        if "GroupByKey" in j:
            return "3 replay: group rows by key (counting sort; events, spine)"
        if "KeyIndex" in j or "DropNullTimes" in j:
            return "3 replay: entity key -> id"
        if "EntityAggregator" in j or "Replay(" in j and "lambda" in j:
            return "3 replay: window aggregation (AdvanceTo/Emit)"
        return "3 replay: other (id arrays, allocation, FeatureValues)"
    # The events scan's connections run on threads of their own (ScanEvents' lambda).
    if "ScanEvents" in j:
        return "1 scan: events SELECT -> sluice Batch"
    for a, sym, dso in s:
        if dso.endswith("/sluice") and ("Builder::" in sym or "BuildTrainingSet" in sym):
            for line in lines_of(a):
                if line in sites:
                    return sites[line]
    if "LoadSpine" in j:
        return "2 spine: CREATE TEMP TABLE __spine (read the spine)"
    if "BuildTrainingSet" in j and "DuckDb::Execute" in j:
        return "6 write: COPY (__spine POSITIONAL JOIN __out_i()) TO Parquet"
    if "~DuckDb" in j:
        return "7 other: DuckDB shutdown (freeing tables)"
    if "BuildTrainingSet" in j:
        return "7 other: in the build (hashes, publish, DESCRIBE, allocation)"
    if any(k in j for k in ("ZSTD_compress", "ColumnWriter", "ParquetWriter", "HUF_", "FSE_")):
        return "6 write: COPY (__spine POSITIONAL JOIN __out_i()) TO Parquet"
    if any(k in j for k in ("ParquetReader", "ColumnReader", "ZSTD_decompress")):
        return "7 other: DuckDB's own worker threads reading Parquet (scan or spine)"
    return "7 other: start-up, project load, exit, truncated stacks"


def main():
    sites = site_lines()
    samples = read_samples()
    cnt = collections.Counter(classify(s, sites) for s in samples)
    kernel = sum(1 for s in samples if s and s[0][2].startswith("[kernel"))
    total = sum(cnt.values()) or 1
    groups = collections.Counter()
    for k, v in cnt.items():
        groups[k.split(":")[0]] += v
    print(f"{'phase':<86} {'share':>6} {'CPU s':>6}")
    for k in sorted(cnt, key=lambda k: (k.split(":")[0], -cnt[k])):
        print(f"{k:<86} {100.0 * cnt[k] / total:5.1f}% {cnt[k] / freq:6.2f}")
    print()
    for g in sorted(groups):
        print(f"{'total ' + g:<86} {100.0 * groups[g] / total:5.1f}% {groups[g] / freq:6.2f}")
    print(f"{'samples in the kernel (mostly page faults on fresh memory)':<86} "
          f"{100.0 * kernel / total:5.1f}% {kernel / freq:6.2f}")
    print(f"samples: {total} at {freq:g} Hz = {total / freq:.2f} CPU s")


if __name__ == "__main__":
    main()
