"""Count Q2 in a new process, from the Parquet copy: the cold-start comparison (Q9).

Usage: cold.py ENGINE PARQUET MEMBERS
  ENGINE   duckdb | polars
  MEMBERS  one user address per line: the users of the tag

Prints the count of email rows with a recipient in MEMBERS, Phish in ThreatTypes and a
Timestamp from 2026-10-24 on. The time includes Python's start, the import of the engine and
reading the members and the Parquet file.
"""

import datetime
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    engine, parquet, members_file = sys.argv[1:]
    with open(members_file, encoding="utf-8") as handle:
        members = [line.strip() for line in handle if line.strip()]
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads = 2")
        con.execute("CREATE TABLE t AS SELECT unnest(?::VARCHAR[]) AS address", [members])
        count = con.execute(
            "SELECT count(*) FROM read_parquet(?) WHERE RecipientEmailAddress IN "
            "(SELECT address FROM t) AND contains(ThreatTypes, 'Phish') "
            "AND \"Timestamp\" >= TIMESTAMP '2026-10-24'",
            [parquet],
        ).fetchone()[0]
    elif engine == "polars":
        import polars as pl

        condition = (
            pl.col("RecipientEmailAddress").is_in(members)
            & pl.col("ThreatTypes").str.contains("Phish", literal=True)
            & (pl.col("Timestamp") >= datetime.datetime(2026, 10, 24))
        )
        count = pl.scan_parquet(parquet).filter(condition).select(pl.len()).collect().item()
    else:
        sys.exit(f"cold.py: unknown engine {engine}: give duckdb or polars")
    print(count)


if __name__ == "__main__":
    main()
