#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the Keras HDF5 reference files for tests/hdf5/keras_weights_test.cpp.

Run with the system Python (needs h5py and numpy, not Keras):
    /usr/bin/python3 tests/data/hdf5/make_keras_refs.py

Keras itself is not installed on the build machine, so the files are written with h5py in the
exact layouts Keras's own saving code produces:

* Keras 2 `model.save_weights("x.h5")` (keras/saving/legacy/hdf5_format.py,
  save_weights_to_hdf5_group): root attributes `layer_names` (numpy array of utf-8 bytes, one
  per layer in model order), `backend` and `keras_version` (bytes); one group per layer created
  in *sorted* name order; each has attribute `weight_names` (bytes like b"dense/kernel:0",
  trainable weights then non-trainable) and a dataset at each of those relative paths (the "/"
  makes h5py create the intermediate group). A layer without weights gets `weight_names = []`,
  which h5py stores as an empty float64 array. Attributes over 64512 bytes are split into
  `name0`, `name1`, ... (save_attributes_to_hdf5_group).
* Keras 2 `model.save("model.h5")` (save_model_to_hdf5): root attributes `keras_version`,
  `backend`, `model_config` (JSON), `training_config`; the weights as above inside the group
  `model_weights`; optimizer state in `optimizer_weights`.
* Keras 3 `model.save_weights("x.weights.h5")` (keras/saving/saving_lib.py, H5IOStore): one
  group per saved object with its variables in a `vars` subgroup as datasets "0", "1", ...;
  the model's own (empty) `vars` at the root, layers under `layers/<layer name>/vars`, nested
  models under `layers/<name>/layers/<inner>/vars`, optimizer state under `optimizer/vars`.

Dense kernels are stored [in, out] in every layout; Conv2D kernels [kh, kw, in, out].
Expected values go next to the files as .npy (pare reads them with pare/io/npy.hpp).
"""
import json
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261125)


def arr(shape, dtype):
    # Values exactly representable in every dtype used (multiples of 1/64 in [-4, 4)).
    return (rng.integers(-256, 256, size=shape) / 64.0).astype(dtype)


def npy(name, a):
    np.save(os.path.join(HERE, name + ".npy"), a)


def path(name):
    return os.path.join(HERE, name)


def save_attributes(group, name, data, chunks=1):
    """save_attributes_to_hdf5_group, with the chunk count forced (Keras chunks at 64512 B)."""
    if chunks <= 1:
        group.attrs[name] = data
        return
    data_npy = np.asarray(data)
    for i, chunk in enumerate(np.array_split(data_npy, chunks)):
        group.attrs["%s%d" % (name, i)] = chunk


# The MLP: dense (f32) -> dropout (no weights) -> dense_1 (f64) -> dense_2 (f16); a conv2d (f32).
MLP = [
    ("dense", [("dense/kernel:0", arr((4, 3), np.float32)), ("dense/bias:0", arr((3,), np.float32))]),
    ("dropout", []),
    ("dense_1", [("dense_1/kernel:0", arr((3, 5), np.float64)), ("dense_1/bias:0", arr((5,), np.float64))]),
    ("dense_2", [("dense_2/kernel:0", arr((5, 2), np.float16)), ("dense_2/bias:0", arr((2,), np.float16))]),
    ("conv2d", [("conv2d/kernel:0", arr((3, 3, 2, 4), np.float32)), ("conv2d/bias:0", arr((4,), np.float32))]),
]


def save_weights_to_hdf5_group(f, layers, chunks=1):
    save_attributes(f, "layer_names", [n.encode("utf8") for n, _ in layers], chunks)
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = b"2.15.0"
    for lname, weights in sorted(layers, key=lambda x: x[0]):
        g = f.create_group(lname)
        save_attributes(g, "weight_names", [w.encode("utf8") for w, _ in weights])
        for wname, val in weights:
            d = g.create_dataset(wname, val.shape, dtype=val.dtype)
            if not val.shape:
                d[()] = val
            else:
                d[:] = val


def write_all():
    for lname, weights in MLP:
        for wname, val in weights:
            npy("%s_%s" % (lname, wname.split("/")[1].split(":")[0]), val)

    # (a) Keras 2 save_weights.
    with h5py.File(path("mlp_keras2.weights.h5"), "w") as f:
        save_weights_to_hdf5_group(f, MLP)

    # (a') Keras 2 full model file.
    with h5py.File(path("mlp_keras2_model.h5"), "w") as f:
        f.attrs["keras_version"] = b"2.15.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "mlp"}}).encode("utf8")
        f.attrs["training_config"] = json.dumps({"loss": "mse"}).encode("utf8")
        save_weights_to_hdf5_group(f.create_group("model_weights"), MLP)
        og = f.create_group("optimizer_weights")
        save_attributes(og, "weight_names", [b"Adam/iter:0"])
        og.create_dataset("Adam/iter:0", data=np.int64(7))

    # Keras 2 with layer_names split into chunks (as Keras does past 64512 bytes).
    with h5py.File(path("mlp_keras2_chunked.h5"), "w") as f:
        save_weights_to_hdf5_group(f, MLP[:3], chunks=2)

    # (b) Keras 3 .weights.h5 (Sequential: dense, dropout, dense_1, dense_2, conv2d) plus a nested
    # Sequential and Adam state.
    with h5py.File(path("mlp_keras3.weights.h5"), "w") as f:
        f.create_group("vars")
        layers = f.create_group("layers")
        for lname, weights in MLP:
            vars_ = layers.create_group(lname).create_group("vars")
            for i, (_, val) in enumerate(weights):
                vars_.create_dataset(str(i), data=val)
        inner = f["layers"].create_group("sequential")
        inner.create_group("vars")
        nested = inner.create_group("layers").create_group("dense_3").create_group("vars")
        k3 = arr((2, 2), np.float32)
        nested.create_dataset("0", data=k3)
        npy("dense_3_kernel", k3)
        opt = f.create_group("optimizer").create_group("vars")
        opt.create_dataset("0", data=np.int64(7))
        opt.create_dataset("1", data=np.float32(0.001))

    # --- bad inputs -----------------------------------------------------------------------------
    with h5py.File(path("not_keras.h5"), "w") as f:
        f.create_dataset("x", data=np.arange(4, dtype=np.float32))
    with h5py.File(path("missing_weight_names.h5"), "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        f.create_group("dense").create_dataset("dense/kernel:0", data=arr((2, 2), np.float32))
    with h5py.File(path("missing_layer_group.h5"), "w") as f:
        f.attrs["layer_names"] = [b"dense", b"dense_1"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0"]
        g.create_dataset("dense/kernel:0", data=arr((2, 2), np.float32))
    with h5py.File(path("missing_dataset.h5"), "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        g.create_dataset("dense/kernel:0", data=arr((2, 2), np.float32))
    with h5py.File(path("numeric_layer_names.h5"), "w") as f:
        f.attrs["layer_names"] = np.arange(3, dtype=np.int32)
    with h5py.File(path("odd_dtypes.h5"), "w") as f:
        f.attrs["layer_names"] = [b"odd"]
        g = f.create_group("odd")
        g.attrs["weight_names"] = [b"odd/complex:0", b"odd/int8:0", b"odd/text:0", b"odd/vector:0"]
        g.create_dataset("odd/complex:0", data=np.array([1 + 2j], dtype=np.complex64))
        g.create_dataset("odd/int8:0", data=np.array([[-3, 4]], dtype=np.int8))
        g.create_dataset("odd/text:0", data=np.array([b"ab"]))
        g.create_dataset("odd/vector:0", data=arr((3,), np.float32))
    # A weight that is an external link into another file (pare must not follow it).
    with h5py.File(path("external_link.h5"), "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0"]
        g.create_group("dense")["kernel:0"] = h5py.ExternalLink("mlp_keras2.weights.h5", "/dense/dense/kernel:0")
    # Layer names as fixed-length strings, as h5py 2 (and numpy "S" arrays) store them; h5py 3
    # stores Keras's lists of bytes as variable-length strings (the other files).
    with h5py.File(path("fixed_names.h5"), "w") as f:
        save_weights_to_hdf5_group(f, [(n, w) for n, w in MLP[:2]])
        for g in (f, f["dense"], f["dropout"]):
            for a in list(g.attrs):
                v = g.attrs[a]
                g.attrs[a] = np.asarray(v, dtype="S") if np.asarray(v).size else v
    # Big-endian storage: libhdf5 converts on read; values must come out the same.
    with h5py.File(path("big_endian.h5"), "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0"]
        g.create_dataset("dense/kernel:0", data=MLP[0][1][0][1].astype(">f4"))


if __name__ == "__main__":
    write_all()
