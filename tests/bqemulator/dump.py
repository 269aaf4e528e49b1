"""Prints every table of a bqemulator project through its REST API (datasets.list,
tables.list, tabledata.list, page by page) as one JSON object: "dataset.table" -> its
rows, each row a JSON text, sorted. Two dumps compare whole tables: what a run wrote.

    python dump.py http://127.0.0.1:PORT PROJECT [DATASET.TABLE ...]

With tables named, only those (a missing one is left out).
"""

import json
import sys

import httpx


def pages(http, url, key):
    token = None
    while True:
        r = http.get(url, params={"pageToken": token} if token else {})
        if r.status_code != 200:
            sys.exit(f"dump.py: GET {url}: {r.status_code} {r.text[:500]}")
        body = r.json()
        yield from body.get(key) or []
        token = body.get("pageToken") or body.get("nextPageToken")
        if not token:
            return


def main(url, project, *only):
    api = f"{url}/bigquery/v2/projects/{project}"
    out = {}
    with httpx.Client(timeout=120) as http:
        if only:
            for name in only:
                d, t = name.split(".")
                r = http.get(f"{api}/datasets/{d}/tables/{t}")
                if r.status_code == 200:
                    rows = pages(http, f"{api}/datasets/{d}/tables/{t}/data", "rows")
                    out[name] = sorted(json.dumps(r, sort_keys=True) for r in rows)
            json.dump(out, sys.stdout)
            return
        for dataset in pages(http, f"{api}/datasets", "datasets"):
            d = dataset["datasetReference"]["datasetId"]
            for table in pages(http, f"{api}/datasets/{d}/tables", "tables"):
                t = table["tableReference"]["tableId"]
                rows = pages(http, f"{api}/datasets/{d}/tables/{t}/data", "rows")
                out[f"{d}.{t}"] = sorted(json.dumps(r, sort_keys=True) for r in rows)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
