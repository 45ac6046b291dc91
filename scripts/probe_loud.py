# The loud-key probe in PyTorch, on a checkpoint loaded into the seed's own TestModel: the reference
# for packages/models/src/probe.ts (docs/findings.md defines the probe). Runs with Debian's
# PyTorch 1.13:
#     /usr/bin/python3 scripts/probe_loud.py RUN/triple-seed0.safetensors RUN/probe/triple-seed0.json
# The JSON (written by `copy-task --probe-loud`) holds the held-out sequences, the loud positions
# and directions and Wedge's rows; this script recomputes the rows from the checkpoint alone
# (key scales included) and prints them with the largest difference from Wedge's.
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'fixtures'))
import models_seed as seed  # noqa: E402  (a verbatim copy of the seed's model)
from models_pytorch import load_safetensors  # noqa: E402


def roped_qkvr(attn, h):
    """Q, K, V (and R for triple) after the seed's projections and RoPE, each [B, H, T, D]."""
    B, T, C = h.shape
    heads = lambda x: x.view(B, T, attn.n_head, attn.d_head).transpose(1, 2)  # noqa: E731
    if isinstance(attn, seed.StandardAttention):
        q, k, v = attn.qkv(h).split(C, dim=2)
        return attn.rope(heads(q)), attn.rope(heads(k)), heads(v), None
    return attn.rope(heads(attn.W_q(h))), attn.rope(heads(attn.W_k(h))), heads(attn.W_v(h)), attn.rope(heads(attn.W_r(h)))


def forward_with_key_offset(model, ids, loud):
    """The seed's forward, line for line, with `loud` [B, H, T, D] added to the keys after RoPE."""
    attn = model.attn
    h = model.embed(ids)
    B, T, C = h.shape
    q, k, v, r = roped_qkvr(attn, h)
    k = k + loud
    mask = torch.tril(torch.ones(T, T))
    if r is None:
        scores = (q @ k.transpose(-2, -1)) * attn.scale
    else:
        d_qq = (q * q).sum(dim=-1, keepdim=True)
        d_rr = (r * r).sum(dim=-1, keepdim=True)
        d_rq = (r * q).sum(dim=-1, keepdim=True)
        d_kk = (k * k).sum(dim=-1, keepdim=True).transpose(-2, -1)
        d_qk = q @ k.transpose(-2, -1)
        d_rk = r @ k.transpose(-2, -1)
        term1 = d_qq * d_kk * d_rr
        term2 = 2.0 * d_qk * d_rk * d_rq
        term3 = - (d_qq * (d_rk ** 2))
        term4 = - (d_kk * (d_rq ** 2))
        term5 = - (d_rr * (d_qk ** 2))
        scores = -(term1 + term2 + term3 + term4 + term5) * attn.scale
    w = F.softmax(scores.masked_fill(mask == 0, float('-inf')), dim=-1)
    y = (w @ v).transpose(1, 2).contiguous().view(B, T, C)
    out = attn.o(y) if r is None else attn.W_o(y)
    return model.unembed(out), w


def probe(model, inputs, targets, positions, directions, magnitudes, batch):
    """Rows {magnitude, attentionMass, copyAccuracy} for m = 0 and each magnitude (see docs/findings.md)."""
    N, T = inputs.shape
    H, D = directions.shape
    start = (T + 1) // 2 - 1  # first copy query
    with torch.no_grad():
        k = roped_qkvr(model.attn, model.embed(inputs))[1]  # [N, H, T, D]
        key_scale = k.norm(dim=-1).double().sum(dim=(0, 2)) / (N * T)  # [H]
        rows = []
        for m in magnitudes:
            mass, queries, correct, copied = 0.0, 0, 0, 0
            for b0 in range(0, N, batch):
                ids, tgt, pos = inputs[b0:b0 + batch], targets[b0:b0 + batch], positions[b0:b0 + batch]
                B = ids.shape[0]
                loud = torch.zeros(B, H, T, D)
                offset = (m * key_scale[:, None] * directions.double()).float()  # [H, D]
                loud[torch.arange(B), :, pos, :] = offset
                logits, w = forward_with_key_offset(model, ids, loud)
                for b in range(B):
                    p = int(pos[b])
                    keep = [t for t in range(start, T) if t != p + start]
                    mass += w[b, :, keep, p].double().sum().item()
                    queries += H * len(keep)
                correct += (logits[:, start:].argmax(-1) == tgt[:, start:]).sum().item()
                copied += B * (T - start)
            rows.append({'magnitude': m, 'attentionMass': mass / queries, 'copyAccuracy': correct / copied})
    return rows, key_scale.tolist()


def main():
    ckpt, probe_file = sys.argv[1], sys.argv[2]
    tensors, meta = load_safetensors(ckpt)
    model = seed.TestModel(int(meta['vocab']), int(meta['d_model']), int(meta['n_head']), int(meta['max_len']), meta['attn_type'])
    model.load_state_dict(tensors, strict=True)
    with open(probe_file) as f:
        spec = json.load(f)
    rows, key_scale = probe(
        model,
        torch.tensor(spec['inputs'], dtype=torch.long),
        torch.tensor(spec['targets'], dtype=torch.long),
        torch.tensor(spec['positions'], dtype=torch.long),
        torch.tensor(spec['directions'], dtype=torch.float64),
        [r['magnitude'] for r in spec['rows']],
        int(spec['batchSize']),
    )
    diff = max(max(abs(a['attentionMass'] - b['attentionMass']), abs(a['copyAccuracy'] - b['copyAccuracy'])) for a, b in zip(rows, spec['rows']))
    print(json.dumps({'rows': rows, 'keyScale': key_scale, 'maxAbsDiffFromWedge': diff}))


if __name__ == '__main__':
    main()
