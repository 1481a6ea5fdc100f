"""The python3-psycopg2 contestant of ``make bench``: what a user would write instead of the runner.

Run with Debian's ``/usr/bin/python3`` (python3-psycopg2), one process per measurement, so its
start-up and memory count just as the runner's and psql's do. The connection comes from libpq's
``PG*`` environment variables, as for psql.

Commands::

    version                      import psycopg2 and print its and libpq's versions
    select1                      connect, SELECT 1, exit
    copy-in TABLE FILE           COPY TABLE FROM STDIN (csv) with copy_expert
    copy-out TABLE FILE          COPY TABLE TO STDOUT (csv) with copy_expert
    stream-csv SQL FILE          a named (server-side) cursor, rows written with csv.writer
"""

from __future__ import annotations

import csv
import json
import sys

import psycopg2
import psycopg2.extensions


def version() -> None:
    """Print psycopg2's and libpq's versions as JSON."""
    libpq = psycopg2.extensions.libpq_version()
    print(
        json.dumps(
            {
                "psycopg2": psycopg2.__version__.split()[0],
                "libpq": f"{libpq // 10000}.{libpq % 10000}",
            }
        )
    )


def select1() -> None:
    """Connect, run SELECT 1, check the answer and disconnect."""
    with psycopg2.connect("") as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
        if cur.fetchone() != (1,):
            raise SystemExit("SELECT 1 did not return 1")
    conn.close()


def copy_in(table: str, path: str) -> None:
    """Load PATH (CSV) into TABLE in one COPY."""
    conn = psycopg2.connect("")
    with open(path, "rb") as f, conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv)", f)
    conn.commit()
    conn.close()


def copy_out(table: str, path: str) -> None:
    """Unload TABLE to PATH as CSV in one COPY."""
    conn = psycopg2.connect("")
    with open(path, "wb") as f, conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} TO STDOUT WITH (FORMAT csv)", f)
    conn.close()


def stream_csv(sql: str, path: str) -> None:
    """Stream SQL's rows to PATH as CSV through a server-side cursor (itersize rows at a time)."""
    conn = psycopg2.connect("")
    with open(path, "w", newline="") as f, conn.cursor(name="bench_stream") as cur:
        cur.itersize = 2000
        cur.execute(sql)
        writer = csv.writer(f)
        for row in cur:
            writer.writerow(row)
    conn.close()


def main(argv: list[str]) -> None:
    """Dispatch to one command (see the module docstring)."""
    commands = {
        "version": version,
        "select1": select1,
        "copy-in": copy_in,
        "copy-out": copy_out,
        "stream-csv": stream_csv,
    }
    if not argv or argv[0] not in commands:
        raise SystemExit(__doc__)
    commands[argv[0]](*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
