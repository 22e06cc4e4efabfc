"""Writes broken copies of the Online Retail file for the bad-input tests (the original is only read).

usage: python make_bad_inputs.py <online_retail.parquet> <out dir>
"""
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def main(source, out):
    os.makedirs(out, exist_ok=True)
    table = pq.read_table(source).slice(0, 1000)
    pq.write_table(table.drop_columns(["CustomerID"]), os.path.join(out, "missing_column.parquet"))
    quantity = table.column("Quantity").cast(pa.string())
    pq.write_table(table.set_column(table.schema.get_field_index("Quantity"), "Quantity", quantity), os.path.join(out, "wrong_type.parquet"))
    pq.write_table(table.slice(0, 0), os.path.join(out, "no_rows.parquet"))
    with open(os.path.join(out, "not_parquet.parquet"), "w") as f:
        f.write("InvoiceNo,StockCode\n536365,85123A\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
