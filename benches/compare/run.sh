#!/usr/bin/env bash
# Side-by-side timing of tagq against DuckDB, Polars, jq, grep and a naive Rust scan on the
# same generated NDJSON email file, in two sections:
#
# - stream: tagq's streaming filter (`tagq filter --count`) against DuckDB, Polars and jq on
#   the NDJSON file, and grep as a floor (queries q1, q2, q4);
# - index: `tagq ingest` against DuckDB's conversion of the file to Parquet (Q10); Q1 to Q4
#   with tagq's index against DuckDB and Polars on the Parquet copy and on an in-memory table
#   or frame, each timed inside its process (warm); `tagq query --count` processes against the
#   naive scan on 1 and 2 threads; and Q9, a new process that opens the store or the Parquet
#   file and counts Q2 (cold). Every tool's count must equal tagq's before timing.
#
# Usage: benches/compare/run.sh [S|M|USERS EMAILS]
#   S (default) and M are the sizes of `tagq generate --size`; two numbers give a custom size.
# Environment: OUT (default target/compare), RUNS (runs per figure, default 5, at least 5),
# SEED (default 1), SECTIONS (default "stream index"), INGEST_RUNS (runs of the ingest and the
# Parquet conversion, default 1, since an ingest of M takes minutes).
#
# Steps: install the comparators when missing (duckdb and polars from PyPI, jq and hyperfine
# from Debian), build tagq in release mode, generate the dataset, import the directory and the
# tag T = uniform-10k into a fresh store, check that every tool returns the same count for
# each query, then time each tool with hyperfine. Everyone gets 2 threads: RAYON_NUM_THREADS=2,
# POLARS_MAX_THREADS=2, DuckDB `SET threads = 2`; jq and grep use one. grep -F is a floor that
# is not field-aware and over-matches, so its count is not checked.
#
# Output in $OUT: for the stream section results.csv (every run), results.md (medians, MB/s,
# ratios to tagq); for the index section index.csv (every run) and index.md (medians, ratios
# to tagq); counts.txt (the checked counts) and the hyperfine JSON exports.
set -euo pipefail
cd "$(dirname "$0")/../.."

case "${1:-S}" in
    S | s) size_args=(--size s) ;;
    M | m) size_args=(--size m) ;;
    *) size_args=(--size custom --users "$1" --emails "${2:?give USERS and EMAILS}") ;;
esac
out="${OUT:-target/compare}"
runs="${RUNS:-5}"
seed="${SEED:-1}"
sections="${SECTIONS:-stream index}"
ingest_runs="${INGEST_RUNS:-1}"
tag="uniform-10k"
# Q3 ORs the tag with "Priority account", whose members are those of this generated tag.
priority_members="heavy-250"
# Start of the last 7 days of the generated data (2026-10-01 to 2026-10-30).
last_week="2026-10-24"

install() {
    if ! python3 -c 'import duckdb, polars' 2>/dev/null; then
        pip install duckdb polars
    fi
    if ! command -v jq >/dev/null || ! command -v hyperfine >/dev/null; then
        apt-get install -y jq hyperfine
    fi
}

install
cargo build --release --quiet
# The helpers of benches/compare/tools.rs, with the release profile like the tagq binary.
tools_binary="$(cargo build --release --bench compare_tools --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "compare_tools":
        print(message["executable"])')"
mkdir -p "$out"
[[ $out == /* ]] || out="$PWD/$out"
# Copies, so that a rebuild during the run cannot change the binaries under test.
cp target/release/tagq "$out/tagq"
cp "$tools_binary" "$out/compare_tools"
tagq="$out/tagq"
tools="$out/compare_tools"
data="$out/data"
store="$out/store"
"$tagq" generate --seed "$seed" "${size_args[@]}" --out "$data"
emails="$data/emails.ndjson"
members="$data/tags/$tag.users.txt"

rm -rf "$store"
export TAGQ_STORE="$store" RAYON_NUM_THREADS=2 POLARS_MAX_THREADS=2
"$tagq" --quiet directory import "$data/directory.csv"
"$tagq" --quiet tag create "$tag"
"$tagq" --quiet tag import "$tag" "$data/tags/$tag.members.txt"
"$tagq" --quiet tag import "Priority account" "$data/tags/$priority_members.members.txt"

# Quotes an argument for the command lines that hyperfine runs through bash.
q() { printf '%q' "$1"; }

run_stream() {
# Each query as a tagq filter and as a jq condition on the envelope's properties;
# benches/compare/engines.py holds the DuckDB and Polars spellings.
declare -A tagq_query=(
    [q1]="recipient.tag:\"$tag\""
    [q2]="recipient.tag:\"$tag\" and ThreatTypes:Phish and received >= \"$last_week\""
    [q4]="recipient.tag:\"$tag\" and not DeliveryAction:Blocked"
)
declare -A jq_condition=(
    [q1]='$s[.RecipientEmailAddress]'
    [q2]="\$s[.RecipientEmailAddress] and (.ThreatTypes | contains(\"Phish\")) and .Timestamp >= \"$last_week\""
    [q4]='$s[.RecipientEmailAddress] and .DeliveryAction != "Blocked"'
)
jq_program() {
    printf '%s' '($m | split("\n") | map(select(length > 0) | {key: ., value: true})
        | from_entries) as $s
        | reduce (inputs | .properties | select('"$1"')) as $r (0; . + 1)'
}

tagq_cmd() { echo "$(q "$tagq") --quiet filter --count $(q "${tagq_query[$1]}") $(q "$emails")"; }
engine_cmd() { echo "python3 benches/compare/engines.py $1 $2 $(q "$emails") $(q "$members")"; }
jq_cmd() {
    jq_program "${jq_condition[$1]}" >"$out/$1.jq"
    echo "jq -n --rawfile m $(q "$members") -f $(q "$out/$1.jq") $(q "$emails")"
}

for query in q1 q2 q4; do
    expected="$(bash -c "$(tagq_cmd "$query")")"
    for tool in duckdb polars jq; do
        if [[ $tool == jq ]]; then command="$(jq_cmd "$query")"; else command="$(engine_cmd "$tool" "$query")"; fi
        count="$(bash -c "$command")"
        if [[ $count != "$expected" ]]; then
            echo "run.sh: $query: $tool counted $count, tagq counted $expected" >&2
            exit 1
        fi
    done
    echo "$query ${tagq_query[$query]}: $expected rows, same in duckdb, polars and jq" | tee -a "$out/counts.txt"
done
echo "grep -F -f (q1 floor, over-matches): $(grep -c -F -f "$members" "$emails" || true) lines" | tee -a "$out/counts.txt"

exports=()
for query in q1 q2 q4; do
    extra=()
    if [[ $query == q1 ]]; then
        extra=(-n grep "grep -c -F -f $(q "$members") $(q "$emails")")
    fi
    hyperfine --shell bash --runs "$runs" --warmup 1 --export-json "$out/$query.json" \
        -n tagq "$(tagq_cmd "$query")" \
        -n duckdb "$(engine_cmd duckdb "$query")" \
        -n polars "$(engine_cmd polars "$query")" \
        -n jq "$(jq_cmd "$query")" \
        "${extra[@]}"
    exports+=("$out/$query.json")
done

python3 benches/compare/summarize.py "$(stat -c %s "$emails")" "$out/results.csv" \
    "$out/results.md" "${exports[@]}"
}

source benches/compare/index.sh
: >"$out/counts.txt"
[[ " $sections " == *" stream "* ]] && run_stream
[[ " $sections " == *" index "* ]] && run_index
