"""Collect the index comparison of run.sh into one CSV and a Markdown table of medians.

Usage:
  index_summary.py hyperfine CSV GROUP QUERY JSON
      Appends every run of a hyperfine JSON export to CSV as "group,query,tool,run,seconds"
      rows; the tool is the command's name (hyperfine -n).
  index_summary.py rows CSV GROUP
      Reads "query,tool,run,seconds" rows from standard input and appends them with GROUP.
  index_summary.py table CSV MARKDOWN
      Writes the median and minimum per group, query and tool, and each tool's ratio to tagq's
      median in the same group and query: the comparator's median over tagq's, so a ratio
      above 1 means tagq was faster.

Groups: "warm" (in-process query times: tagq-warm against DuckDB and Polars on Parquet and
in memory), "process" (whole processes on a warm page cache: tagq-cli against the naive
scan), "cold" (Q9: a new process that opens the store or Parquet file and runs Q2), and
"ingest" (Q10: tagq ingest against DuckDB's NDJSON to Parquet conversion).
"""

import csv
import json
import statistics
import sys

TAGQ = {"warm": "tagq-warm", "process": "tagq-cli", "cold": "tagq-cli", "ingest": "tagq"}


def append(path, rows):
    with open(path, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def add_hyperfine(path, group, query, export):
    with open(export, encoding="utf-8") as handle:
        results = json.load(handle)["results"]
    rows = []
    for result in results:
        for run, seconds in enumerate(result["times"]):
            rows.append([group, query, result["command"], run, f"{seconds:.9f}"])
    append(path, rows)


def add_rows(path, group):
    rows = [[group, *line.strip().split(",")[:4]] for line in sys.stdin if line.strip()]
    append(path, rows)


def format_seconds(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def table(path, markdown):
    times = {}
    with open(path, encoding="utf-8") as handle:
        for group, query, tool, _run, seconds in csv.reader(handle):
            times.setdefault((group, query), {}).setdefault(tool, []).append(float(seconds))
    lines = [
        "| group | query | tool | runs | median | min | ratio to tagq |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for (group, query), tools in times.items():
        reference = tools.get(TAGQ.get(group, "tagq"))
        base = statistics.median(reference) if reference else None
        for tool, values in tools.items():
            median = statistics.median(values)
            ratio = f"{median / base:.1f}" if base else "-"
            lines.append(
                f"| {group} | {query} | {tool} | {len(values)} | {format_seconds(median)} "
                f"| {format_seconds(min(values))} | {ratio} |"
            )
    with open(markdown, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "hyperfine" and len(sys.argv) == 6:
        add_hyperfine(*sys.argv[2:])
    elif command == "rows" and len(sys.argv) == 4:
        add_rows(*sys.argv[2:])
    elif command == "table" and len(sys.argv) == 4:
        table(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
