#!/usr/bin/env bash
# Instruction-count regression guard: runs a fixed small workload under callgrind and compares
# the instructions executed (Ir) per step with benches/guard/baseline.txt. It measures no time,
# so the result does not depend on the machine's load.
#
# Usage: benches/guard/run.sh [--update]
#   --update  writes the counts of this run to benches/guard/baseline.txt instead of comparing.
#             Commit a new baseline only together with the change that explains it, and say in
#             the commit message why the counts moved.
# Environment: GUARD_DIR (work folder, default /tmp/tagq-guard, replaced on every run),
#   GUARD_THRESHOLD (allowed rise per step in percent, default 3).
#
# Workload, with RAYON_NUM_THREADS=1 so that every step runs the same code on one thread:
#   generate   tagq generate --seed 7 --size custom --users 2000 --emails 20000
#   explain    parse and print a query with a tag, a value group, a negation, a date and an
#              OR of 500 recipient addresses
#   ingest     tagq ingest of the first 5,000 email rows into a store holding the directory and
#              the tags uniform-1k and nested-100 (set up outside the measurement)
#   q1 … q4    tagq query --count for the plan's Q1 to Q4: tag; tag, phish and the slice's
#              last days; OR of tags and a delivery action; tag and not blocked. q1 builds and
#              writes the stored tag bitmaps, the others reuse them
#   q5         tagq query printing every matching record of the tag and phish as NDJSON (the
#              CLI has no grouping, so this is the materialising path)
#   tag-change tagq tag remove of 100 members of uniform-1k
#   q1-changed q1 again, which updates the stored tag bitmap from the 100 removed users
#
# Exit status: 0 when no step rose by more than the threshold, 1 otherwise or on any error.
set -euo pipefail
cd "$(dirname "$0")/../.."

update=false
case "${1:-}" in
    --update) update=true ;;
    "") ;;
    *)
        echo "usage: benches/guard/run.sh [--update]" >&2
        exit 2
        ;;
esac
baseline="benches/guard/baseline.txt"
work="${GUARD_DIR:-/tmp/tagq-guard}"
threshold="${GUARD_THRESHOLD:-3}"

if ! command -v valgrind >/dev/null; then
    echo "run.sh: valgrind is missing: install it (apt-get install valgrind)" >&2
    exit 1
fi
# The bench profile has the release settings and shares its build of the library with
# `cargo bench --no-run`, which CI runs first, so only the binary is left to build.
cargo build --profile bench --bin tagq --locked --quiet
rm -rf "$work"
mkdir -p "$work"
cp target/release/tagq "$work/tagq"
tagq="$work/tagq"
data="$work/data"
export TAGQ_STORE="$work/store" RAYON_NUM_THREADS=1 TZ=UTC LC_ALL=C
: >"$work/counts.txt"

# Runs one step under callgrind and appends "STEP IR" to counts.txt; the step's stdout goes to
# STEP.stdout for the checks below.
measure() {
    local step="$1"
    shift
    valgrind --tool=callgrind --callgrind-out-file="$work/$step.callgrind" \
        "$tagq" --quiet "$@" >"$work/$step.stdout" 2>"$work/$step.log" || {
        local status=$?
        # tagq query exits 1 when nothing matched; every query here has matches.
        echo "run.sh: step $step failed with status $status; see $work/$step.log" >&2
        exit 1
    }
    local ir
    ir="$(awk '/^summary:/ { print $2 }' "$work/$step.callgrind")"
    if [[ -z $ir ]]; then
        echo "run.sh: no instruction count in $work/$step.callgrind" >&2
        exit 1
    fi
    echo "$step $ir" >>"$work/counts.txt"
}

tag="uniform-1k"
q1="recipient.tag:$tag"
q2="recipient.tag:$tag and ThreatTypes:Phish and received >= 2026-10-02"
q3="(recipient.tag:nested-100 or recipient.tag:$tag) and DeliveryAction:(Delivered or Junked)"
q4="recipient.tag:$tag and not DeliveryAction:Blocked"
q5="recipient.tag:$tag and ThreatTypes:Phish"

measure generate generate --seed 7 --size custom --users 2000 --emails 20000 --out "$data"
addresses="$(head -n 500 "$data/tags/$tag.users.txt" | sed 's/.*/"&"/' | paste -sd' ')"
addresses="${addresses// / or }"
measure explain explain "recipient.tag:\"Priority account\" and DeliveryAction:(Delivered or Junked) and not ThreatTypes:Spam and received >= now-7d/d and recipient:($addresses)"

"$tagq" --quiet directory import "$data/directory.csv"
for name in "$tag" nested-100; do
    "$tagq" --quiet tag create "$name"
    "$tagq" --quiet tag import "$name" "$data/tags/$name.members.txt"
done
head -n 5000 "$data/emails.ndjson" >"$work/slice.ndjson"
measure ingest ingest "$work/slice.ndjson"

measure q1 query --count "$q1"
measure q2 query --count "$q2"
measure q3 query --count "$q3"
measure q4 query --count "$q4"
measure q5 query -o ndjson "$q5"
head -n 100 "$data/tags/$tag.members.txt" >"$work/removed.txt"
mapfile -t removed <"$work/removed.txt"
measure tag-change tag remove "$tag" "${removed[@]}"
measure q1-changed query --count "$q1"

# The tag change must show in the count, or the last step measured a stale count.
if (($(cat "$work/q1-changed.stdout") >= $(cat "$work/q1.stdout"))); then
    echo "run.sh: q1 counted $(cat "$work/q1.stdout") before and $(cat "$work/q1-changed.stdout") after removing 100 members" >&2
    exit 1
fi

if $update; then
    {
        echo "# Instructions (callgrind Ir) per step of benches/guard/run.sh; rewrite with --update."
        cat "$work/counts.txt"
    } >"$baseline"
    echo "run.sh: wrote $baseline"
    cat "$work/counts.txt"
    exit 0
fi

if [[ ! -f $baseline ]]; then
    echo "run.sh: $baseline is missing: create it with benches/guard/run.sh --update" >&2
    exit 1
fi
awk -v threshold="$threshold" '
    FNR == NR { if ($0 !~ /^#/ && NF == 2) base[$1] = $2; next }
    FNR == 1 { printf "%-12s %16s %16s %9s\n", "step", "baseline", "now", "change" }
    {
        if (!($1 in base)) {
            printf "%-12s %16s %16d %9s\n", $1, "-", $2, "new"
            next
        }
        change = ($2 - base[$1]) * 100 / base[$1]
        mark = change > threshold ? "  above the threshold" : ""
        printf "%-12s %16d %16d %+8.2f%%%s\n", $1, base[$1], $2, change, mark
        if (change > threshold) failed = 1
    }
    END {
        if (failed) {
            printf "run.sh: a step rose by more than %s %%; find the cause, or record a justified rise with --update\n", threshold > "/dev/stderr"
            exit 1
        }
    }
' "$baseline" "$work/counts.txt"
