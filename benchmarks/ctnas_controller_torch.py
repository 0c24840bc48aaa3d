"""PyTorch CPU peer of CTNAS's NB-101 controller (benchmarks/ctnas.js, section 6).

A port, written for this benchmark, of the controller as the authors' code runs it
(chenyaofo/CTNAS, NASBenchController): an LSTMCell of H units; step 0 reads zeros and picks the
node count n in 1..5 (Linear H -> 5); node k = 1..n picks its predecessor in 0..k-1 by pointer
attention, logits_j = v . tanh(W_e e_j + W_h h) over the first k rows of the node embedding
(recomputed at every pointer step, as the code does), then its op (Linear H -> 3); the output
picks one of 0..n; then 2(8 - n) picks in 0..n+1 for the extra edges. Each step's input is the
embedding of the previous decision (n-embedding, node embedding or op embedding). Each decision
is drawn by torch.distributions.Categorical and read back with .item(), as the code does. Plain
softmax (the paper's preset; the code's tanh constant and temperature are off), so log pi of a
sequence equals nasrank's.

The parameters come from a float64 file in nasrank's Nb101Controller layout:
  [W_ih | b_ih | W_hh | b_hh | n-emb (5xH) | node-emb (7xH) | op-emb (3xH) | W_e (HxH) | W_h (HxH) |
   v (H) | W_op (3xH) | b_op (3) | W_n (5xH) | b_n (5)].

One iteration = sample, log pi, entropy, loss = -reward * log pi - 5e-4 * entropy (the code's
preset), backward (autograd), torch.optim.Adam(lr 2e-4, betas (0.5, 0.999), weight decay 5e-4).

Usage: python3 ctnas_controller_torch.py PARAMS.f64 HIDDEN ITERATIONS REPEAT FORCED_SEQ_JSON
Prints one JSON line: torch version, log pi of FORCED_SEQ in float32 and float64 (checked against
nasrank by the caller), and the best ms per iteration over REPEAT runs of ITERATIONS, float32
(the code's dtype) and float64.
"""
import json
import sys
import time

import numpy as np
import torch


class Nb101Controller(torch.nn.Module):
    def __init__(self, params, H, dtype):
        super().__init__()
        self.H = H
        self.lstm = torch.nn.LSTMCell(H, H)
        self.n_nodes_embedding = torch.nn.Embedding(5, H)
        self.node_embedding = torch.nn.Embedding(7, H)
        self.op_embedding = torch.nn.Embedding(3, H)
        self.emb_attn = torch.nn.Linear(H, H, bias=False)
        self.hid_attn = torch.nn.Linear(H, H, bias=False)
        self.v_attn = torch.nn.Linear(H, 1, bias=False)
        self.w_soft = torch.nn.Linear(H, 3)
        self.n_soft = torch.nn.Linear(H, 5)
        self.to(dtype)  # before the copy: float64 values must not pass through float32
        order = [self.lstm.weight_ih, self.lstm.bias_ih, self.lstm.weight_hh, self.lstm.bias_hh,
                 self.n_nodes_embedding.weight, self.node_embedding.weight, self.op_embedding.weight,
                 self.emb_attn.weight, self.hid_attn.weight, self.v_attn.weight,
                 self.w_soft.weight, self.w_soft.bias, self.n_soft.weight, self.n_soft.bias]
        at = 0
        with torch.no_grad():
            for t in order:
                n = t.numel()
                t.copy_(torch.from_numpy(params[at:at + n]).reshape(t.shape))
                at += n
        assert at == len(params), (at, len(params))
        self.dtype = dtype

    def decide(self, logits, forced, seq, logps, ents):
        dist = torch.distributions.Categorical(probs=torch.softmax(logits, dim=-1))
        action = torch.tensor(forced) if forced is not None else dist.sample()
        logps.append(dist.log_prob(action))
        ents.append(dist.entropy())
        return int(action.item())

    def pointer(self, hx, k):
        query = torch.tanh(self.emb_attn(self.node_embedding.weight[:k, :]) + self.hid_attn(hx))
        return self.v_attn(query).view(-1)

    def forward(self, forced=None):
        H = self.H
        seq, logps, ents = [], [], []
        f = iter(forced) if forced is not None else None
        nxt = (lambda: next(f)) if f is not None else (lambda: None)
        zeros = torch.zeros(1, H, dtype=self.dtype)
        hidden = (zeros, zeros)
        hx, cx = self.lstm(zeros, hidden)
        hidden = (hx, cx)
        first = nxt()
        a = self.decide(self.n_soft(hx).view(-1), None if first is None else first - 1, seq, logps, ents)
        n = a + 1
        seq.append(n)
        embed = self.n_nodes_embedding(torch.tensor([a]))
        for node in range(n + 1):
            hx, cx = self.lstm(embed, hidden)
            hidden = (hx, cx)
            a = self.decide(self.pointer(hx, node + 1), nxt(), seq, logps, ents)
            seq.append(a)
            embed = self.node_embedding(torch.tensor([a]))
            if node == n:
                break
            hx, cx = self.lstm(embed, hidden)
            hidden = (hx, cx)
            a = self.decide(self.w_soft(hx).view(-1), nxt(), seq, logps, ents)
            seq.append(a)
            embed = self.op_embedding(torch.tensor([a]))
        for _ in range(2 * (8 - n)):
            hx, cx = self.lstm(embed, hidden)
            hidden = (hx, cx)
            a = self.decide(self.pointer(hx, n + 2), nxt(), seq, logps, ents)
            seq.append(a)
            embed = self.node_embedding(torch.tensor([a]))
        return seq, sum(logps), sum(ents)


def main():
    params = np.fromfile(sys.argv[1], dtype="<f8")
    H, iters, repeat = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    forced = json.loads(sys.argv[5])
    torch.set_num_threads(1)
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for name, dtype in (("f32", torch.float32), ("f64", torch.float64)):
        ctrl = Nb101Controller(params, H, dtype)
        seq, logp, ent = ctrl(forced)
        assert seq == forced, (seq, forced)
        out["logpi_" + name] = float(logp)
        out["entropy_" + name] = float(ent)
        opt = torch.optim.Adam(ctrl.parameters(), lr=2e-4, betas=(0.5, 0.999), weight_decay=5e-4)

        def iterate():
            _, logp, ent = ctrl()
            loss = -0.5 * logp - 5e-4 * ent
            opt.zero_grad()
            loss.backward()
            opt.step()

        for _ in range(3):
            iterate()
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(iters):
                iterate()
            best = min(best, (time.perf_counter() - t0) * 1000 / iters)
        out["iter_" + name] = best
    print(json.dumps(out))


if __name__ == "__main__":
    main()
