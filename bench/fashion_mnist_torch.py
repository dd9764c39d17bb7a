#!/usr/bin/env python3
"""bench/fashion_mnist_torch.py: the PyTorch (eager, CPU) counterpart of ctnn's main job
(src/main_job.cpp, ./tools/main-job): same data preparation, network, batch, optimiser and epochs,
so seconds per epoch and test accuracy can be compared side by side (tools/bench-peers does that).

  784-128-10 ReLU network, logits + softmax cross-entropy (batch mean), mini-batches of 64 from a
  seeded shuffle each epoch (the last, smaller batch is kept), pixels scaled to [0, 1] and then
  standardised per pixel with the training set's mean and population standard deviation.
  Initialisation as ctnn's `automatic`: He normal N(0, 2/in) before a ReLU, Xavier uniform
  otherwise, zero biases.

Run with Debian's python3-torch, one thread (torch.set_num_threads(1); set OPENBLAS_NUM_THREADS=1
in the environment) and, for the comparison, pinned to one core:

  OPENBLAS_NUM_THREADS=1 taskset -c 1 python3 bench/fashion_mnist_torch.py --epochs 5 --lr 0.05

Prints one line per epoch ("epoch i/n  loss ...  train_acc ...  time S s (cpu C s)": wall and process CPU
seconds of the training pass) and "test accuracy A";
--json FILE also writes them.
"""
import argparse
import gzip
import json
import math
import os
import re
import struct
import sys
import time


def load_idx(path):
    """An IDX file (optionally gzip-compressed) as (dims, bytes); clear error on bad input."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as e:
        sys.exit(f"error: cannot read {path}: {e}")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        sys.exit(f"error: {path}: not an unsigned-byte IDX file")
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    body = data[4 + 4 * nd:]
    if len(body) != math.prod(dims):
        sys.exit(f"error: {path}: {len(body)} data bytes, header says {math.prod(dims)}")
    return dims, body


def find(data_dir, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    sys.exit(f"error: {stem}[.gz] not found in {data_dir} (Debian package dataset-fashion-mnist)")


def match_ctnn_log(path, a):
    """Sets a's training options to what ctnn's main job printed (e.g. "ctnn-fashion-mnist: 60000 train
    / 10000 test samples, batch 64, lr 0.05, momentum 0, seed 42" and "epoch 5/5 ...")."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        sys.exit(f"error: cannot read {path}: {e}")
    lines = text.splitlines()
    if not lines or not lines[0].startswith("ctnn-fashion-mnist"):
        sys.exit(f"error: {path}: does not start with the main job's 'ctnn-fashion-mnist: ...' line")
    header = lines[0]
    kv = dict(re.findall(r"\b(batch|lr|momentum|beta1|seed|optimi[sz]er|schedule)[ =:]+([^\s,;]+)", header))
    epochs = re.findall(r"^epoch \d+/(\d+)", text, re.M)
    if not epochs or "lr" not in kv or "batch" not in kv:
        sys.exit(f"error: {path}: cannot find the epochs, batch and lr of the main job in its output")
    a.epochs, a.batch, a.lr = int(epochs[0]), int(kv["batch"]), float(kv["lr"])
    a.momentum = float(kv.get("momentum", 0))
    a.beta1 = float(kv.get("beta1", 0.9))
    a.seed = int(kv.get("seed", a.seed))
    low = header.lower()
    opt = kv.get("optimizer", kv.get("optimiser", "adam" if "adam" in low else "sgd")).lower()
    if opt not in ("sgd", "adam"):
        sys.exit(f"error: {path}: optimiser '{opt}' is not supported by this script (sgd, adam)")
    a.optimizer = opt
    a.schedule = "cosine" if "cosine" in low else "constant"
    print(f"matching the main job ({path}): {a.optimizer} lr {a.lr:g} momentum {a.momentum:g} beta1 {a.beta1:g}, "
          f"schedule {a.schedule}, batch {a.batch}, {a.epochs} epochs, seed {a.seed}", flush=True)


def main():
    ap = argparse.ArgumentParser(description="PyTorch counterpart of ctnn's Fashion-MNIST main job")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.0, help="SGD heavy-ball momentum")
    ap.add_argument("--beta1", type=float, default=0.9, help="Adam's first-moment decay")
    ap.add_argument("--schedule", choices=["constant", "cosine"], default="constant",
                    help="learning-rate schedule; cosine decays to 0 over all steps (updated every step)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--match-ctnn-log", metavar="FILE",
                    help="take epochs, batch, optimiser, lr, momentum, schedule and seed from the output of "
                         "ctnn's main job (its first line and its epoch lines) instead of the options above")
    a = ap.parse_args()
    if a.match_ctnn_log:
        match_ctnn_log(a.match_ctnn_log, a)

    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    def images(stem):
        dims, body = load_idx(find(a.data, stem))
        if len(dims) != 3 or dims[1] * dims[2] != 784:
            sys.exit(f"error: {stem}: expected N x 28 x 28 images, got {dims}")
        return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims[0], 784).float() / 255.0

    def labels(stem, n):
        dims, body = load_idx(find(a.data, stem))
        t = torch.frombuffer(bytearray(body), dtype=torch.uint8).long()
        if dims != (n,) or int(t.max()) > 9:
            sys.exit(f"error: {stem}: expected {n} labels in 0..9")
        return t

    xtr, xte = images("train-images-idx3-ubyte"), images("t10k-images-idx3-ubyte")
    ytr, yte = labels("train-labels-idx1-ubyte", xtr.shape[0]), labels("t10k-labels-idx1-ubyte", xte.shape[0])
    mean = xtr.double().mean(0)
    std = xtr.double().std(0, unbiased=False)
    constant = (xtr.min(0).values == xtr.max(0).values) | ~(std > 0)
    inv = torch.where(constant, torch.ones_like(std), 1.0 / std)
    xtr = ((xtr.double() - mean) * inv).float()
    xte = ((xte.double() - mean) * inv).float()

    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    with torch.no_grad():
        torch.nn.init.kaiming_normal_(model[0].weight, nonlinearity="relu")  # N(0, 2/in)
        torch.nn.init.xavier_uniform_(model[2].weight)
        model[0].bias.zero_()
        model[2].bias.zero_()
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(a.beta1, 0.999))
    n = xtr.shape[0]
    steps = (n + a.batch - 1) // a.batch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps * a.epochs) if a.schedule == "cosine" else None
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)

    print(f"fashion_mnist_torch: torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{n} train / {xte.shape[0]} test, batch {a.batch}, {a.optimizer} lr {a.lr:g} momentum {a.momentum:g} "
          f"beta1 {a.beta1:g}, "
          f"schedule {a.schedule}, seed {a.seed}", flush=True)
    epochs = []
    for epoch in range(1, a.epochs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        order = torch.randperm(n, generator=gen)
        loss_sum, correct = 0.0, 0
        for s in range(steps):
            idx = order[s * a.batch:(s + 1) * a.batch]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        if not math.isfinite(loss_sum):
            sys.exit(f"error: non-finite training loss at epoch {epoch}")
        epochs.append({"epoch": epoch, "loss": loss_sum / n, "train_acc": correct / n, "seconds": dt,
                       "cpu_seconds": cpu})
        print(f"epoch {epoch}/{a.epochs}  loss {loss_sum / n:.4f}  train_acc {correct / n:.4f}  "
              f"time {dt:.2f} s (cpu {cpu:.2f} s)", flush=True)
    with torch.inference_mode():
        acc = float((model(xte).argmax(1) == yte).float().mean())
    print(f"test accuracy {acc:.4f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "options": vars(a),
                       "epochs": epochs, "test_accuracy": acc}, f, indent=1)


if __name__ == "__main__":
    main()
