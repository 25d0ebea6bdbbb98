#!/usr/bin/env bash
# Side-by-side timing of tagq's streaming filter (`tagq filter --count`) against DuckDB,
# Polars, jq and grep on the same generated NDJSON email file.
#
# Usage: benches/compare/run.sh [S|M|USERS EMAILS]
#   S (default) and M are the sizes of `tagq generate --size`; two numbers give a custom size.
# Environment: OUT (default target/compare), RUNS (hyperfine runs, default 5, at least 5),
# SEED (default 1).
#
# Steps: install the comparators when missing (duckdb and polars from PyPI, jq and hyperfine
# from Debian), build tagq in release mode, generate the dataset, import the directory and the
# tag T = uniform-10k into a fresh store, check that every tool returns the same count for
# each query, then time each tool with hyperfine. Everyone gets 2 threads: RAYON_NUM_THREADS=2,
# POLARS_MAX_THREADS=2, DuckDB `SET threads = 2`; jq and grep use one. grep -F is a floor that
# is not field-aware and over-matches, so its count is not checked.
#
# Output in $OUT: results.csv (every run), results.md (medians, MB/s, ratios to tagq),
# counts.txt (the checked counts) and the hyperfine JSON exports.
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
tag="uniform-10k"
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
mkdir -p "$out"
# A copy, so that a rebuild during the run cannot change the binary under test.
cp target/release/tagq "$out/tagq"
tagq="$PWD/$out/tagq"
[[ $out == /* ]] && tagq="$out/tagq"
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

q() { printf '%q' "$1"; }
tagq_cmd() { echo "$(q "$tagq") --quiet filter --count $(q "${tagq_query[$1]}") $(q "$emails")"; }
engine_cmd() { echo "python3 benches/compare/engines.py $1 $2 $(q "$emails") $(q "$members")"; }
jq_cmd() {
    jq_program "${jq_condition[$1]}" >"$out/$1.jq"
    echo "jq -n --rawfile m $(q "$members") -f $(q "$out/$1.jq") $(q "$emails")"
}

: >"$out/counts.txt"
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
