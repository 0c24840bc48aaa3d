"""PyTorch CPU peer of the AG-Net generator (benchmarks/agnet.js): a dense port of
lib/models/agnet.ts / native/agnet.cc with the same sizes and the same flat parameter layout
(read from a float64 file), float64, batched over rows with per-row 0/1 edge factors as the JS
tape and the native code do.

Usage: python3 agnet_torch.py PARAMS.f64 Z.f64 CLASSES.u8 EDGES.u8 ZGEN.f64 THREADS REPEAT DAG_JSON
Prints one JSON line: the output for Z (to check the port against the native forward), the
best time of a train step (forward, Eq. 1, backward, Adam) for batch 16 and 32, and of
generating from ZGEN (forward, sampling, decoding, validity, dedup).
"""
import json
import sys
import time

import numpy as np
import torch

M, C, H, HALF, ZD = 8, 7, 32, 16, 32
E = M * (M - 1) // 2
D = M * C + E


def layout():
    """(name, in, out) of every linear part, in AgNetGenerator.params order."""
    parts = [("emb1", C, H), ("emb2", H, H), ("init1", H + ZD, 2 * H), ("init2", 2 * H, H)]
    for l in range(4):
        parts += [(f"msg{l}", 2 * HALF, H), (f"gru{l}.i", H, 3 * HALF), (f"gru{l}.h", HALF, 3 * HALF)]
    parts += [("readG", H, H), ("gateG", H, 1), ("readGi", H, H), ("gateGi", H, 1), ("node1", H + ZD, H),
              ("node2", H, C), ("hv1", 2 * H + ZD, 2 * H), ("hv2", 2 * H, H), ("edge1", 3 * H + ZD, 2 * H), ("edge2", 2 * H, 1)]
    return parts


def unflatten(flat):
    params, at = {}, 0
    for name, i, o in layout():
        W = torch.tensor(flat[at:at + i * o].reshape(i, o), dtype=torch.float64, requires_grad=True)
        at += i * o
        b = torch.tensor(flat[at:at + o].copy(), dtype=torch.float64, requires_grad=True)
        at += o
        params[name] = (W, b)
    assert at == len(flat), (at, len(flat))
    return params


def edge_index(j, i):
    return i * (i - 1) // 2 + j


def forward(P, z):
    B = z.shape[0]
    lin = lambda x, name: x @ P[name][0] + P[name][1]
    emb = lambda x: lin(torch.relu(lin(x, "emb1")), "emb2")
    onehot = torch.zeros(B, C, dtype=torch.float64)
    onehot[:, 1] = 1
    h0 = lin(torch.relu(lin(torch.cat([emb(onehot), z], 1), "init1")), "init2")
    hs = [h0]
    node0 = onehot * 20
    nodes = [node0]
    edges = [None] * E
    mask = [torch.zeros(B, 1, dtype=torch.float64) for _ in range(E)]

    def propagate(hs, layer, reverse):
        W, b = P[f"msg{layer}"]
        Wi, bi = P[f"gru{layer}.i"]
        Wh, bh = P[f"gru{layer}.h"]
        start = HALF if reverse else 0
        halves = [h[:, start:start + HALF] for h in hs]
        sent = [x @ W[:HALF] for x in halves]
        out = []
        n = len(hs)
        for i in range(n):
            msg = None
            deg = torch.zeros(B, 1, dtype=torch.float64)
            for j in range(n):
                if j == i:
                    continue
                k = (edge_index(i, j) if i < j else -1) if reverse else (edge_index(j, i) if j < i else -1)
                if k < 0:
                    continue
                m = mask[k]
                deg = deg + m
                term = sent[j] * m
                msg = term if msg is None else msg + term
            if msg is None:
                msg = torch.zeros(B, H, dtype=torch.float64)
            else:
                msg = msg + deg * (halves[i] @ W[HALF:] + b)
            gi = msg @ Wi + bi
            gh = halves[i] @ Wh + bh
            r = torch.sigmoid(gi[:, :HALF] + gh[:, :HALF])
            zz = torch.sigmoid(gi[:, HALF:2 * HALF] + gh[:, HALF:2 * HALF])
            nn = torch.tanh(gi[:, 2 * HALF:] + r * gh[:, 2 * HALF:])
            upd = (1 - zz) * nn + zz * halves[i]
            other = hs[i][:, 0:HALF] if reverse else hs[i][:, HALF:]
            out.append(torch.cat([other, upd], 1) if reverse else torch.cat([upd, other], 1))
        return out

    def readout(hs, read, gate):
        return sum(lin(h, read) * torch.sigmoid(lin(h, gate)) for h in hs)

    for s in range(1, M):
        if s == 1:
            hG, hGi = lin(h0, "readG"), lin(h0, "readGi")
        else:
            hs = propagate(hs, 0, False)
            hs = propagate(hs, 1, False)
            hs = propagate(hs, 2, True)
            hs = propagate(hs, 3, True)
            hG, hGi = readout(hs, "readG", "gateG"), readout(hs, "readGi", "gateGi")
        logits = lin(torch.relu(lin(torch.cat([hG, z], 1), "node1")), "node2")
        nodes.append(logits)
        hv = lin(torch.relu(lin(torch.cat([emb(logits), hGi, z], 1), "hv1")), "hv2")
        if s == 1:
            edges[0] = torch.full((B, 1), 20.0, dtype=torch.float64)
        else:
            W1, b1 = P["edge1"]
            shared = torch.cat([hv, hG, z], 1) @ W1[H:] + b1
            for u in range(s):
                edges[edge_index(u, s)] = lin(torch.relu(hs[u] @ W1[:H] + shared), "edge2")
        for u in range(s):
            k = edge_index(u, s)
            mask[k] = (edges[k].detach() > 0.5).double()
        hs.append(hv)
    return torch.cat(nodes + edges, 1)


def reconstruction(out, classes, edges, weights):
    B = out.shape[0]
    logits = out[:, :M * C].reshape(B, M, C)
    ce = torch.nn.functional.cross_entropy(logits.reshape(B * M, C), classes.reshape(-1), reduction="none").reshape(B, M).mean(1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(out[:, M * C:], edges, reduction="none").mean(1)
    return (weights * (ce + bce)).sum()


def main():
    params_f, z_f, classes_f, edges_f, zgen_f, threads, repeat = sys.argv[1:8]
    torch.set_num_threads(int(threads))
    repeat = int(repeat)
    flat = np.fromfile(params_f, dtype="<f8")
    P = unflatten(flat)
    z_all = torch.tensor(np.fromfile(z_f, dtype="<f8").reshape(-1, ZD))
    cls_all = torch.tensor(np.fromfile(classes_f, dtype=np.uint8).astype(np.int64).reshape(-1, M))
    edg_all = torch.tensor(np.fromfile(edges_f, dtype=np.uint8).astype(np.float64).reshape(-1, E))
    zgen = torch.tensor(np.fromfile(zgen_f, dtype="<f8").reshape(-1, ZD))
    result = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    with torch.no_grad():
        result["out"] = forward(P, z_all[:32]).reshape(-1).tolist()
    opt = torch.optim.Adam([p for pair in P.values() for p in pair], lr=2e-4, betas=(0.5, 0.999))
    for B in (16, 32):
        z, cls, edg = z_all[:B], cls_all[:B], edg_all[:B]
        w = torch.full((B,), 1.0 / B, dtype=torch.float64)
        best = float("inf")
        for r in range(repeat + 1):
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = reconstruction(forward(P, z), cls, edg, w)
            loss.backward()
            opt.step()
            if r > 0:
                best = min(best, time.perf_counter() - t0)
        result[f"step{B}"] = best * 1000
    class_ops = torch.tensor([-1, -1, 2, 3, 4, 1, 0])
    gen = torch.Generator().manual_seed(0)
    best = float("inf")
    for r in range(max(2, repeat // 5) + 1):
        t0 = time.perf_counter()
        with torch.no_grad():
            out = forward(P, zgen)
        n = out.shape[0]
        probs = torch.softmax(out[:, :M * C].reshape(n, M, C), 2)
        cls = torch.multinomial(probs.reshape(n * M, C), 1, generator=gen).reshape(n, M)
        cls[:, M - 1] = 0
        edges = (torch.rand(n, E, generator=gen, dtype=torch.float64) < torch.sigmoid(out[:, M * C:])).to(torch.uint8)
        # Validity as the JS decode: no output before the last node, node 0 input, ops elsewhere, edges = the DAG.
        ops = class_ops[cls[:, 1:M - 1]]
        ok = (cls[:, 0] == 1) & (ops >= 0).all(1) & (edges == EDGES_DAG).all(1)
        idx = (ops.clamp(min=0) * torch.tensor([3125, 625, 125, 25, 5, 1])).sum(1)
        unique = np.unique(idx[ok].numpy())
        if r > 0:
            best = min(best, time.perf_counter() - t0)
    result["generate"] = best * 1000
    result["valid"] = int(ok.sum())
    result["distinct"] = int(len(unique))
    print(json.dumps(result))


EDGES_DAG = None

if __name__ == "__main__":
    EDGES_DAG = torch.tensor(json.loads(sys.argv[8]), dtype=torch.uint8)
    main()
