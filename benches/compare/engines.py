"""Count the email rows that match a benchmark query, with DuckDB or Polars.

Usage: engines.py ENGINE QUERY EMAILS MEMBERS
  ENGINE   duckdb | polars
  QUERY    q1 | q2 | q4 (see QUERIES in run.sh)
  EMAILS   NDJSON in the Advanced Hunting streaming envelope
           ({"category": ..., "properties": {...}}), one row per message and recipient
  MEMBERS  one user address per line: the users of the tag

Prints the count. Both engines run with 2 threads: DuckDB through SET threads, Polars
through POLARS_MAX_THREADS, which the caller must set before Python starts.
"""

import sys

# Start of the last 7 days of the generated data, which covers 2026-10-01 to 2026-10-30.
LAST_WEEK = "2026-10-24"


def duckdb_count(query, emails, members):
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(
        "CREATE TEMP TABLE members AS SELECT column0 AS address "
        "FROM read_csv(?, header = false, columns = {'column0': 'VARCHAR'})",
        [members],
    )
    conditions = ["p.RecipientEmailAddress IN (SELECT address FROM members)"]
    if query == "q2":
        conditions.append("contains(p.ThreatTypes, 'Phish')")
        conditions.append(f"CAST(p.\"Timestamp\" AS VARCHAR) >= '{LAST_WEEK}'")
    elif query == "q4":
        conditions.append("p.DeliveryAction <> 'Blocked'")
    sql = (
        "SELECT count(*) FROM (SELECT properties AS p FROM read_ndjson(?)) "
        f"WHERE {' AND '.join(conditions)}"
    )
    return con.execute(sql, [emails]).fetchone()[0]


def polars_count(query, emails, members):
    import polars as pl

    with open(members, encoding="utf-8") as handle:
        addresses = [line.strip() for line in handle if line.strip()]
    p = pl.col("properties")
    condition = p.struct.field("RecipientEmailAddress").is_in(addresses)
    if query == "q2":
        condition &= p.struct.field("ThreatTypes").str.contains("Phish", literal=True)
        condition &= p.struct.field("Timestamp") >= LAST_WEEK
    elif query == "q4":
        condition &= p.struct.field("DeliveryAction") != "Blocked"
    frame = pl.scan_ndjson(emails).filter(condition).select(pl.len()).collect()
    return frame.item()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    engine, query, emails, members = sys.argv[1:]
    count = {"duckdb": duckdb_count, "polars": polars_count}[engine](query, emails, members)
    print(count)


if __name__ == "__main__":
    main()
