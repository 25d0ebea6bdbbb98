# The index section of benches/compare/run.sh, which sources this file and sets $tagq, $tools,
# $out, $data, $emails, $members, $store, $tag, $priority_members, $runs, $ingest_runs and
# $last_week. Results go to $out/index.csv and $out/index.md.

run_index() {
    local csv="$out/index.csv" parquet="$out/emails.parquet" members3="$out/q3-members.txt"
    local summary="python3 benches/compare/index_summary.py"
    : >"$csv"
    sort -u "$members" "$data/tags/$priority_members.users.txt" >"$members3"
    local -A query=(
        [q1]="recipient.tag:\"$tag\""
        [q2]="recipient.tag:\"$tag\" and ThreatTypes:Phish and received >= \"$last_week\""
        [q3]="(recipient.tag:\"Priority account\" or recipient.tag:\"$tag\") and DeliveryAction:(Delivered or Junked)"
        [q4]="recipient.tag:\"$tag\" and not DeliveryAction:Blocked"
    )
    local -A scan_members=([q1]="$members" [q2]="$members" [q3]="$members3" [q4]="$members")

    # Q10: ingest against DuckDB's conversion to Parquet, which also writes the Parquet copy.
    # Two runs of hyperfine, because --prepare applies to every command of a run.
    hyperfine --runs "$ingest_runs" --export-json "$out/convert.json" \
        -n duckdb-to-parquet "python3 benches/compare/index_engines.py convert $(q "$emails") $(q "$parquet")"
    hyperfine --runs "$ingest_runs" --export-json "$out/ingest.json" \
        --prepare "rm -rf $(q "$store/index")" -n tagq "$(q "$tagq") --quiet ingest $(q "$emails")"
    $summary hyperfine "$csv" ingest q10 "$out/ingest.json"
    $summary hyperfine "$csv" ingest q10 "$out/convert.json"
    # The tag bitmaps of a first query are written to the store, as after any first use.
    "$tagq" --quiet query --count "${query[q1]}" >/dev/null

    local expected=() name count
    for name in q1 q2 q3 q4; do
        count="$("$tagq" --quiet query --count "${query[$name]}")"
        expected+=("$name=$count")
        local threads
        for threads in 1 2; do
            local scanned
            scanned="$("$tools" naive-scan "$name" "$threads" "$emails" ${scan_members[$name]})"
            if [[ $scanned != "$count" ]]; then
                echo "run.sh: $name: the naive scan counted $scanned, tagq counted $count" >&2
                exit 1
            fi
        done
        echo "index $name ${query[$name]}: $count records, same in the naive scan" |
            tee -a "$out/counts.txt"
    done
    local expected_text
    expected_text="$(IFS=,; echo "${expected[*]}")"

    # Warm: in-process query times. The engines check their counts against tagq's first.
    "$tools" warm "$store" "$runs" "${query[q1]}" "${query[q2]}" "${query[q3]}" "${query[q4]}" |
        sed 's/^\(q[0-9]\),/\1,tagq-warm,/' | cut -d, -f1-4 | $summary rows "$csv" warm
    python3 benches/compare/index_engines.py time "$parquet" "$members" "$members3" \
        "$expected_text" "$runs" "$out/engines.csv"
    $summary rows "$csv" warm <"$out/engines.csv"
    rm -f "$out/engines.csv"
    echo "index q1-q4: DuckDB and Polars on Parquet and in memory match tagq" | tee -a "$out/counts.txt"

    # Whole processes on a warm page cache: tagq query against the naive scan.
    for name in q1 q2 q3 q4; do
        hyperfine --runs "$runs" --warmup 1 --export-json "$out/index-$name.json" \
            -n tagq-cli "$(q "$tagq") --quiet query --count $(q "${query[$name]}")" \
            -n naive-scan-1t "$(q "$tools") naive-scan $name 1 $(q "$emails") ${scan_members[$name]}" \
            -n naive-scan-2t "$(q "$tools") naive-scan $name 2 $(q "$emails") ${scan_members[$name]}"
        $summary hyperfine "$csv" process "$name" "$out/index-$name.json"
    done

    # Q9 cold: a new process opens the store or the Parquet file and counts Q2.
    local engine
    for engine in duckdb polars; do
        count="$(python3 benches/compare/cold.py "$engine" "$parquet" "$members")"
        if [[ "q2=$count" != "${expected[1]}" ]]; then
            echo "run.sh: q9: $engine counted $count, tagq ${expected[1]}" >&2
            exit 1
        fi
    done
    hyperfine --runs "$runs" --warmup 1 --export-json "$out/q9.json" \
        -n tagq-cli "$(q "$tagq") --quiet query --count $(q "${query[q2]}")" \
        -n duckdb-python "python3 benches/compare/cold.py duckdb $(q "$parquet") $(q "$members")" \
        -n polars-python "python3 benches/compare/cold.py polars $(q "$parquet") $(q "$members")"
    $summary hyperfine "$csv" cold q9 "$out/q9.json"

    $summary table "$csv" "$out/index.md"
}
