#!/usr/bin/env bash
# `sluice profile` and `sluice drift` end to end: profiles against pandas/numpy, drift statistics
# against SciPy (Evidently's default rule), bad input, the HTML report in headless Chromium.
set -euo pipefail
sluice=$1
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/assert.sh"
py=/usr/bin/python3
oracle="$here/quality_oracle.py"

p="$tmp_root/q"
mkdir -p "$p/data"
"$py" "$oracle" gen "$p/data"
columns='    columns:
      - {name: id, type: int64, nullable: false}
      - {name: amount, type: double}
      - {name: score, type: double}
      - {name: n_items, type: int64}
      - {name: country, type: string}
      - {name: flag, type: bool}
      - {name: label, type: int64}
      - {name: ts, type: timestamp}'
{
  echo "name: q"
  echo "sources:"
  for s in ref cur small shifted empty concept; do
    printf '  - name: %s\n    type: file\n    format: csv\n    path: data/%s.csv\n    event_time: ts\n%s\n' \
      "$s" "$s" "$columns"
  done
  printf '  - name: narrow\n    type: file\n    format: csv\n    path: data/narrow.csv\n    columns:\n      - {name: amount, type: double}\n      - {name: nothing, type: double}\n'
} >"$p/sluice.yaml"
printf 'amount,nothing\n1.5,\n2.5,\n2.5,\n' >"$p/data/narrow.csv"

run "$sluice" ingest -p "$p"
expect_code 0 "ingest"

# --- profiles: written at publish, equal to pandas ------------------------------------------
expect_eq "$(find "$p/.sluice/lake/versions/ref" -name '*.profile.json' | wc -l)" 1 \
  "ingest stores the profile beside the manifest"
run "$sluice" profile -p "$p" ref --json
expect_code 0 "profile --json"
echo "$out" >"$tmp_root/profile.json"
run "$py" "$oracle" profile "$p/data/ref.csv" "$tmp_root/profile.json"
expect_code 0 "profile equals pandas/numpy ($out)"
run "$sluice" profile -p "$p" ref
expect_code 0 "profile table"
expect_out "ref version" "the table names the version"
expect_out "country" "the table lists columns"
# The debug timeline of the scan: a line per column (which worker, wall and CPU time) and per
# worker; the recomputed profile is the stored one.
run "$sluice" --log-level debug profile -p "$p" ref --recompute --json
expect_code 0 "profile --recompute at debug level"
expect_eq "$(echo "$out" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["columns"][7]["distinct"])')" \
  "$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["columns"][7]["distinct"])' "$tmp_root/profile.json")" \
  "the recomputed profile's timestamps equal the stored one's"
expect_eq "$(echo "$err" | grep -cE 'scan: [a-z_]+ on worker [0-9]: [0-9.]+-[0-9.]+ s, [0-9.]+ s on CPU')" 8 \
  "a debug line per column"
expect_eq "$(echo "$err" | grep -c 'scan: worker 0 done at')" 1 "a debug line per worker"
run "$sluice" profile -p "$p" ref --html "$tmp_root/profile.html"
expect_code 0 "profile --html"
expect_eq "$(grep -o 'data-column="[a-z_]*"' "$tmp_root/profile.html" | sort -u | wc -l)" 8 \
  "the profile report has a row per column"
run "$sluice" profile -p "$p" empty --json
expect_code 0 "profile of an empty dataset"
expect_out '"rows": 0' "empty dataset has zero rows"
run "$sluice" profile -p "$p" nosuch
expect_code 1 "profile of an unknown dataset"
expect_err "'nosuch' is neither a dataset" "unknown dataset is named"

# --- drift against SciPy --------------------------------------------------------------------
for pair in "ref cur" "ref shifted" "small cur" "small shifted"; do
  set -- $pair
  run "$sluice" drift -p "$p" --reference "$1" --current "$2" --json
  expect_code 0 "drift $1 -> $2"
  echo "$out" >"$tmp_root/drift.json"
  run "$py" "$oracle" drift "$p/data/$1.csv" "$p/data/$2.csv" "$tmp_root/drift.json"
  expect_code 0 "drift $1 -> $2 equals SciPy ($out)"
done
run "$sluice" drift -p "$p" --reference ref --current shifted --columns amount,country,score \
  --fail-on-drift
expect_code 1 "--fail-on-drift exits 1 on dataset drift"
expect_out "DATASET DRIFT" "the table says so"
run "$sluice" drift -p "$p" --reference ref --current cur --columns score,label --fail-on-drift
expect_code 0 "no drift in unshifted columns"
run "$sluice" drift -p "$p" --reference ref --current 'shifted[2026-01-01,2026-01-02)' --json
expect_code 0 "drift on a time range"
echo "$out" >"$tmp_root/drift.json"
run "$py" "$oracle" drift "$p/data/ref.csv" "$p/data/shifted.csv" "$tmp_root/drift.json" \
  2026-01-01 2026-01-02
expect_code 0 "time-range drift equals SciPy on the same rows ($out)"
for m in ks wasserstein psi jensenshannon chisquare ztest; do
  run "$sluice" drift -p "$p" --reference small --current shifted --method $m --json
  expect_code 0 "--method $m"
  expect_out "\"method\": \"$m\"" "--method $m is used"
done

# --- concept drift: the label's rate per feature bin -----------------------------------------
run "$sluice" drift -p "$p" --reference ref --current concept --label label --json
expect_code 0 "drift --label"
echo "$out" >"$tmp_root/concept.json"
run "$py" "$oracle" concept "$p/data/ref.csv" "$p/data/concept.csv" "$tmp_root/concept.json"
expect_code 0 "label rates per bin equal pandas ($out)"
run "$sluice" drift -p "$p" --reference ref --current concept --label label
expect_out "CONCEPT DRIFT" "the relation between score and label changed"
run "$sluice" drift -p "$p" --reference ref --current concept --label country
expect_code 2 "a text label is refused"

# --- bad input: defined results, never NaN --------------------------------------------------
run "$sluice" drift -p "$p" --reference ref --current narrow --json
expect_code 0 "columns missing on one side"
expect_out '"note": "missing in the current data"' "a missing column is reported"
run "$sluice" drift -p "$p" --reference narrow --current narrow --json
expect_code 0 "all-null and constant-ish columns"
expect_out '"note": "no non-null values in the reference and the current data"' "all-null column"
run "$sluice" drift -p "$p" --reference ref --current empty --json
expect_code 0 "empty current dataset"
expect_out '"dataset_drift": false' "nothing compared, no drift"
case "$out" in *NaN*|*Infinity*) fail "NaN in JSON" ;; *) pass ;; esac
run "$sluice" drift -p "$p" --reference ref --current 'cur@24h'
expect_code 2 "bad time syntax"
expect_err "expected DATASET@-DURATION" "the syntax is explained"
run "$sluice" drift -p "$p" --reference ref --current cur --method bogus
expect_code 2 "unknown method"
run "$sluice" drift -p "$p" --reference 'narrow[2026-01-01,)' --current cur
expect_code 2 "time range of a dataset without event time"
expect_err "has no event time column" "the missing event time is explained"

# --- HTML report in headless Chromium -------------------------------------------------------
run "$sluice" drift -p "$p" --reference ref --current shifted --html "$tmp_root/report.html"
expect_code 0 "drift --html"
expect_file "$tmp_root/report.html" "the report is written"
if grep -Eq '(src|href)="https?:' "$tmp_root/report.html"; then fail "report fetches something"; else pass; fi
chromium_bin=$(command -v chromium || true)
if [ -z "$chromium_bin" ]; then
  fail "chromium is not installed (scripts/setup installs it)"
else
  profile_dir="$tmp_root/chromium-profile"
  flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run
         --disable-sync --disable-component-update --user-data-dir="$profile_dir"
         --window-size=1000,800)
  timeout 120 "$chromium_bin" "${flags[@]}" --screenshot="$tmp_root/shot.png" \
    "file://$tmp_root/report.html" >/dev/null 2>&1 || true
  timeout 120 "$chromium_bin" "${flags[@]}" --dump-dom "file://$tmp_root/report.html" \
    >"$tmp_root/dom.html" 2>/dev/null || true
  expect_file "$tmp_root/shot.png" "chromium took a screenshot"
  run "$py" - "$tmp_root/shot.png" "$tmp_root/dom.html" <<'PY'
import sys, zlib, struct
png = open(sys.argv[1], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, width, height = 8, b"", 0, 0
while pos < len(png):
    n, kind = struct.unpack(">I4s", png[pos:pos + 8])
    data = png[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", data[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += data
    pos += 12 + n
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
pixels = []
for y in range(height):  # undo PNG's per-row filters (None, Sub, Up, Average, Paeth)
    f = raw[y * (stride + 1)]
    row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    pixels.append(bytes(row))
    prev = row
colors, inked, total = set(), 0, 0
for row in pixels[::3]:
    for x in range(0, stride, bpp * 3):
        px = row[x:x + 3]
        colors.add(px)
        total += 1
        inked += px != b"\xff\xff\xff"
assert len(colors) > 10, f"screenshot looks blank ({len(colors)} colours)"
assert inked > total // 100, f"screenshot looks blank ({inked} of {total} pixels not white)"
dom = open(sys.argv[2]).read()
for col in ["amount", "score", "n_items", "country", "flag", "label", "id", "ts"]:
    assert f'data-column="{col}"' in dom, f"no row for {col} in the rendered DOM"
assert "<svg" in dom, "no histogram"
print("ok")
PY
  expect_code 0 "the screenshot is not blank and the DOM has every column's row ($out)"
fi

finish
