"""Turn hyperfine JSON exports into a CSV of raw run times and a Markdown table.

Usage: summarize.py BYTES RAW_CSV TABLE_MD EXPORT.json...
  BYTES    size of the email file in bytes, for the MB/s column
  EXPORT   one hyperfine --export-json file per query, named <query>.json

The ratio is the command's median over the median of `tagq` in the same export, so a
ratio above 1 means tagq was faster.
"""

import csv
import json
import os
import statistics
import sys


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    size = int(sys.argv[1])
    raw_path, table_path = sys.argv[2], sys.argv[3]
    rows = []
    table = [
        "| query | tool | median s | min s | MB/s (median) | ratio to tagq |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for export in sys.argv[4:]:
        query = os.path.splitext(os.path.basename(export))[0]
        with open(export, encoding="utf-8") as handle:
            results = json.load(handle)["results"]
        medians = {r["command"]: statistics.median(r["times"]) for r in results}
        base = medians.get("tagq")
        for result in results:
            tool = result["command"]
            for run, seconds in enumerate(result["times"], 1):
                rows.append([query, tool, run, f"{seconds:.4f}"])
            median = medians[tool]
            ratio = f"{median / base:.2f}" if base else "n/a"
            rate = size / median / 1e6
            table.append(
                f"| {query} | {tool} | {median:.3f} | {min(result['times']):.3f} "
                f"| {rate:.0f} | {ratio} |"
            )
    with open(raw_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "tool", "run", "seconds"])
        writer.writerows(rows)
    with open(table_path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
