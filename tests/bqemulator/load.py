"""Loads a seeded phase4-check DuckDB file into a running bqemulator through its REST API
(datasets.insert, tables.insert, tabledata.insertAll), the way a user would fill a
BigQuery project: no back door into the emulator's storage.

    python load.py WAREHOUSE.duckdb http://127.0.0.1:PORT PROJECT
"""

import datetime
import sys

import duckdb
import httpx

# DuckDB's column types as BigQuery's (the contract's tables use no others).
TYPES = {
    "VARCHAR": ("STRING", "NULLABLE"),
    "DATE": ("DATE", "NULLABLE"),
    "INTEGER": ("INT64", "NULLABLE"),
    "BIGINT": ("INT64", "NULLABLE"),
    "DOUBLE": ("FLOAT64", "NULLABLE"),
    "TIMESTAMP": ("TIMESTAMP", "NULLABLE"),
    "BOOLEAN": ("BOOL", "NULLABLE"),
    "DOUBLE[]": ("FLOAT64", "REPEATED"),
}
BATCH = 5000


def cell(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def main(path, url, project):
    db = duckdb.connect(path, read_only=True)
    columns = db.execute(
        "SELECT table_schema, table_name, column_name, data_type "
        "FROM information_schema.columns WHERE table_schema <> 'phase4_meta' "
        "AND table_catalog = current_database() "
        "ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    tables = {}
    for schema, table, column, data_type in columns:
        tables.setdefault((schema, table), []).append((column, data_type))
    api = f"{url}/bigquery/v2/projects/{project}"
    with httpx.Client(timeout=120) as http:
        for dataset in sorted({schema for schema, _ in tables}):
            r = http.post(f"{api}/datasets", json={"datasetReference": {"projectId": project, "datasetId": dataset}})
            if r.status_code not in (200, 409):
                sys.exit(f"load.py: cannot create dataset {dataset}: {r.status_code} {r.text}")
        total = 0
        for (dataset, table), cols in tables.items():
            fields = []
            for name, data_type in cols:
                if data_type not in TYPES:
                    sys.exit(f"load.py: {dataset}.{table}.{name} has type {data_type}, which has no BigQuery type here")
                bq_type, mode = TYPES[data_type]
                fields.append({"name": name, "type": bq_type, "mode": mode})
            r = http.post(
                f"{api}/datasets/{dataset}/tables",
                json={
                    "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
                    "schema": {"fields": fields},
                },
            )
            if r.status_code != 200:
                sys.exit(f"load.py: cannot create table {dataset}.{table}: {r.status_code} {r.text}")
            names = [name for name, _ in cols]
            cursor = db.execute(f'SELECT * FROM "{dataset}"."{table}"')
            while True:
                batch = cursor.fetchmany(BATCH)
                if not batch:
                    break
                rows = [{"json": {n: cell(v) for n, v in zip(names, row)}} for row in batch]
                r = http.post(f"{api}/datasets/{dataset}/tables/{table}/insertAll", json={"rows": rows})
                body = r.json() if r.status_code == 200 else {}
                if r.status_code != 200 or body.get("insertErrors"):
                    sys.exit(f"load.py: insert into {dataset}.{table} failed: {r.status_code} {r.text[:500]}")
                total += len(rows)
    print(f"loaded {total} rows into {len(tables)} tables")


if __name__ == "__main__":
    main(*sys.argv[1:])
