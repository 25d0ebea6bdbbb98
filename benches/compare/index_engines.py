"""Count and time the index queries Q1 to Q4 with DuckDB and Polars, on Parquet and in memory.

Usage:
  index_engines.py convert EMAILS PARQUET
      Writes the email rows of the enveloped NDJSON file EMAILS as a flat Parquet file with
      DuckDB (the properties become columns, Timestamp a TIMESTAMP).
  index_engines.py time PARQUET MEMBERS1 MEMBERS3 EXPECTED RUNS CSV
      MEMBERS1: the users of the tag T (Q1, Q2, Q4); MEMBERS3: the users of the tags ORed in
      Q3, one address per line. EXPECTED: tagq's counts as "q1=N,q2=N,q3=N,q4=N". Checks that
      every engine returns the expected count, then runs each query RUNS more times and
      appends "query,tool,run,seconds" rows to CSV.

Only the query is timed, in this Python process: the members are loaded into a table or a
list beforehand, and the in-memory table or frame is loaded from the Parquet file once. The
Parquet figures include reading the file, from the page cache. DuckDB runs with SET threads =
2 and Polars with POLARS_MAX_THREADS, which the caller sets to 2 before Python starts.
"""

import csv
import datetime
import statistics
import sys
import time

# Start of the last 7 days of the generated data, which covers 2026-10-01 to 2026-10-30.
LAST_WEEK = datetime.datetime(2026, 10, 24)
QUERIES = ("q1", "q2", "q3", "q4")


def read_members(path):
    with open(path, encoding="utf-8") as handle:
        return sorted({line.strip() for line in handle if line.strip()})


def convert(emails, parquet):
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(
        "COPY (SELECT p.* REPLACE (CAST(p.\"Timestamp\" AS TIMESTAMP) AS \"Timestamp\") "
        "FROM (SELECT unnest(properties) FROM read_ndjson(?)) AS p) "
        "TO '" + parquet.replace("'", "''") + "' (FORMAT parquet)",
        [emails],
    )


def duckdb_sql(query, source):
    conditions = {
        "q1": "RecipientEmailAddress IN (SELECT address FROM t)",
        "q2": "RecipientEmailAddress IN (SELECT address FROM t) AND contains(ThreatTypes, 'Phish') "
        "AND \"Timestamp\" >= TIMESTAMP '2026-10-24'",
        "q3": "RecipientEmailAddress IN (SELECT address FROM t3) "
        "AND DeliveryAction IN ('Delivered', 'Junked')",
        "q4": "RecipientEmailAddress IN (SELECT address FROM t) AND DeliveryAction <> 'Blocked'",
    }
    return f"SELECT count(*) FROM {source} WHERE {conditions[query]}"


def duckdb_engines(parquet, members1, members3):
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS address", [members1])
    con.execute("CREATE TABLE t3 AS SELECT unnest(?::VARCHAR[]) AS address", [members3])
    con.execute("CREATE TABLE emails AS SELECT * FROM read_parquet(?)", [parquet])
    source = "read_parquet('" + parquet.replace("'", "''") + "')"

    def runner(source):
        return lambda query: con.execute(duckdb_sql(query, source)).fetchone()[0]

    return {"duckdb-parquet": runner(source), "duckdb-memory": runner("emails")}


def polars_condition(query, members1, members3):
    import polars as pl

    recipient = pl.col("RecipientEmailAddress")
    action = pl.col("DeliveryAction")
    if query == "q3":
        return recipient.is_in(members3) & action.is_in(["Delivered", "Junked"])
    condition = recipient.is_in(members1)
    if query == "q2":
        condition &= pl.col("ThreatTypes").str.contains("Phish", literal=True)
        condition &= pl.col("Timestamp") >= LAST_WEEK
    elif query == "q4":
        condition &= action != "Blocked"
    return condition


def polars_engines(parquet, members1, members3):
    import polars as pl

    frame = pl.read_parquet(parquet)
    conditions = {q: polars_condition(q, members1, members3) for q in QUERIES}

    def on_parquet(query):
        return pl.scan_parquet(parquet).filter(conditions[query]).select(pl.len()).collect().item()

    def in_memory(query):
        return frame.filter(conditions[query]).height

    return {"polars-parquet": on_parquet, "polars-memory": in_memory}


def time_engines(parquet, members1_file, members3_file, expected_text, runs, out):
    members1 = read_members(members1_file)
    members3 = read_members(members3_file)
    expected = dict(item.split("=") for item in expected_text.split(","))
    engines = {}
    engines.update(duckdb_engines(parquet, members1, members3))
    engines.update(polars_engines(parquet, members1, members3))
    rows = []
    for query in QUERIES:
        for tool, run in engines.items():
            count = run(query)
            if str(count) != expected[query]:
                sys.exit(f"index_engines.py: {query}: {tool} counted {count}, tagq {expected[query]}")
        for tool, run in engines.items():
            times = []
            for number in range(runs):
                started = time.perf_counter()
                run(query)
                times.append(time.perf_counter() - started)
                rows.append([query, tool, number, f"{times[-1]:.9f}"])
            print(f"{query} {tool}: median {statistics.median(times) * 1e3:.2f} ms", file=sys.stderr)
    with open(out, "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "convert":
        convert(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 8 and sys.argv[1] == "time":
        parquet, members1, members3, expected, runs, out = sys.argv[2:]
        time_engines(parquet, members1, members3, expected, int(runs), out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
