"""tests/files/make_npy.py OUT_DIR: the .npy and .npz files of tests/npy_spec.lua.

Every case NAME.npy comes with NAME.f32, the float32 values numpy gives
(a.astype('<f4'), little-endian, C order): aerun's core.npy_read must give
exactly these bits.  Where torch is importable, torch.from_numpy(a).float()
is checked against them too, so the expectation is PyTorch's number.  The
archives s.npz (np.savez) and c.npz (np.savez_compressed) have one NAME.f32
per array, prefixed with the archive's name.  Printed: one line per case,
"case NAME SHAPE" (SHAPE comma-separated, empty for a 0-d array), then
"torch N" (the cases torch agreed on) or "torch absent".
"""
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(12)
expected = {}  # name -> the array as written


def save(name, a, version=None):
    path = os.path.join(out, name + ".npy")
    if version is None:
        np.save(path, a)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    np.ascontiguousarray(a).astype("<f4").tofile(os.path.join(out, name + ".f32"))
    expected[name] = a
    print("case", name, ",".join(str(d) for d in a.shape))


# every integer dtype in both byte orders: the extremes, values float32
# cannot hold (rounded to nearest, ties to even) and random ones
for order in "<>":
    for t in ["u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8"]:
        info = np.iinfo(t)
        vals = [info.min, info.max, 0, 1, info.max - 1]
        if info.max > 2**24:
            vals += [2**24 + 1, 2**24 + 3, -(2**24) - 1 if info.min else 2**32 - 129, info.max // 3]
        vals += list(rng.integers(info.min, info.max, size=24 - len(vals), endpoint=True, dtype=t))
        a = np.array(vals, dtype=np.dtype(t).newbyteorder(order)).reshape(2, 3, 4)
        save(f"{t}{'le' if order == '<' else 'be'}", a)

    # floats: zeros, extremes, subnormals, infinities, NaN, random magnitudes
    for t in ["f2", "f4", "f8"]:
        fi = np.finfo(t)
        vals = [0.0, -0.0, 1.0, -1.0, fi.tiny, float(fi.tiny) / 4, np.inf, -np.inf, np.nan, 1 / 3]
        if t != "f8":
            vals += [float(fi.max), float(fi.min)]
        else:
            # in float32's range, or rounding to its largest value; 1e-50 underflows to 0
            vals += [3.4028234e38, -3.40282356e38, 1e-50, 1e-40]
        mags = rng.standard_normal(24 - len(vals)) * 10.0 ** rng.integers(-4, 4, size=24 - len(vals))
        a = np.array(vals + list(mags), dtype=np.dtype(t).newbyteorder(order)).reshape(4, 6)
        save(f"{t}{'le' if order == '<' else 'be'}", a)

save("bool", np.array([[True, False, True], [False, False, True]]))
save("scalar", np.array(2.5, dtype=">f8"))
save("empty", np.zeros((0, 3), dtype="<i4"))
save("v2", np.arange(10, dtype="<i2").reshape(2, 5), version=(2, 0))
save("v3", np.linspace(-1, 1, 7, dtype="<f4"), version=(3, 0))
# more than one pass through the reader's 65536-element buffer
save("big", rng.standard_normal((2100, 64)))
# 1-D and single-column arrays are the same in either order: numpy writes them as C order
save("fortran_1d", np.asfortranarray(np.arange(5.0)))

# refused: written for the messages
np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(np.arange(12.0).reshape(3, 4)))
np.save(os.path.join(out, "object.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
np.save(os.path.join(out, "structured.npy"), np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))
np.save(os.path.join(out, "complex.npy"), np.ones(3, dtype="<c8"))
np.save(os.path.join(out, "strings.npy"), np.array(["ab", "c"]))
np.save(os.path.join(out, "datetime.npy"), np.array(["2024-01-01"], dtype="datetime64[D]"))
np.save(os.path.join(out, "overflow.npy"), np.array([[1.0, 2.0], [3.0, -1e300]]))

# archives: stored and deflated, positional names, a name with a slash
arrays = {
    "x": rng.standard_normal((300, 8)),
    "y": rng.integers(0, 10, size=300).astype("<i8"),
    "flag": np.array(True),
    "a/b": np.arange(6, dtype=">u2").reshape(2, 3),
    "big": rng.standard_normal((2100, 64)).astype("<f4"),
}
for archive, fn in (("s", np.savez), ("c", np.savez_compressed)):
    fn(os.path.join(out, archive + ".npz"), **arrays)
    for name, a in arrays.items():
        a.astype("<f4").tofile(os.path.join(out, archive + "_" + name.replace("/", "_") + ".f32"))
np.savez(os.path.join(out, "positional.npz"), np.ones(2), np.zeros(3))

try:
    import torch
except ImportError:
    print("torch absent")
else:
    agreed = 0
    for name, a in expected.items():
        native = a.astype(a.dtype.newbyteorder("="))
        try:
            t = torch.from_numpy(native.copy(order="C"))
        except TypeError:
            continue  # a dtype this torch does not have (uint16/32/64 before 2.3)
        ours = np.fromfile(os.path.join(out, name + ".f32"), dtype="<f4").reshape(a.shape)
        theirs = t.to(torch.float32).numpy()
        assert np.array_equal(ours, theirs, equal_nan=True), name
        agreed += 1
    print("torch", agreed)
