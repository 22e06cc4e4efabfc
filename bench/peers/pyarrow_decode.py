"""
Bench peer (item 5): a bare Arrow decode of a run's output with pyarrow, 64k-row batches, nothing
checked. Prints one JSON line: {mode, rows, ms, hwmMiB, nulls}.

    python pyarrow_decode.py <run dir> <output>
"""
import json
import os
import resource
import sys
import time
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.parquet as pq

run_dir, name = sys.argv[1], sys.argv[2]
with open(os.path.join(run_dir, "_manifest.json")) as f:
    output = json.load(f)["outputs"][name]
base = output["uri"]
if base.startswith("file:"):
    base = unquote(urlparse(base).path)
t0 = time.perf_counter()
rows = nulls = 0
for entry in output["files"]:
    for batch in pq.ParquetFile(os.path.join(base, entry["path"])).iter_batches(batch_size=65536):
        rows += batch.num_rows
        nulls += sum(c.null_count for c in batch.columns)
ms = (time.perf_counter() - t0) * 1000
print(json.dumps({"mode": "pyarrow", "rows": rows, "ms": ms, "nulls": nulls,
                  "hwmMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "version": pa.__version__}))
