"""tests/files/make_csv.py OUT_DIR: the CSV files of tests/csv_spec.lua.

Python's csv module writes random numbers in several notations (repr's
17 digits, exponents, integers, a leading '+', '.5'), with its default
CRLF line ends; plain.csv quotes what needs it, quoted.csv every field.
NAME_x.f32 and NAME_y.f32 hold the float32 values numpy gives for the
features and the label column (float(text) rounded once more to float32:
np.float64 -> np.float32, which is also what pandas.read_csv(...)
.astype(np.float32) and torch.tensor(..., dtype=torch.float32) give).
"""
import csv
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(3)
header = ["a", "b, with a comma", 'c "quoted"', "label", "e"]
rows = []
for i in range(500):
    mag = 10.0 ** rng.integers(-30, 30)
    v = rng.standard_normal(4) * mag
    cells = [repr(float(v[0])), "%.6e" % v[1], "%.9g" % v[2], str(int(rng.integers(0, 10))), "%+.3f" % v[3]]
    if i % 7 == 0:
        cells[0] = "%d" % rng.integers(-(2**40), 2**40)  # integers past 2^24 round
    if i % 11 == 0:
        cells[4] = ".5"
    rows.append(cells)

for name, quoting in (("plain", csv.QUOTE_MINIMAL), ("quoted", csv.QUOTE_ALL)):
    with open(os.path.join(out, name + ".csv"), "w", newline="") as f:
        w = csv.writer(f, quoting=quoting)
        w.writerow(header)
        w.writerows(rows)
    values = np.array([[float(c) for c in r] for r in rows], dtype=np.float64).astype(np.float32)
    x = np.delete(values, 3, axis=1)
    np.ascontiguousarray(x).astype("<f4").tofile(os.path.join(out, name + "_x.f32"))
    values[:, 3].astype("<f4").tofile(os.path.join(out, name + "_y.f32"))
print("rows", len(rows))
