"""Synthetic token sequences of four topics: each topic has its own 20 keyword tokens, scattered among
common filler tokens; the label is the topic whose keywords occur most. Sequences are padded with
token 0 and an ``attention_mask`` of 0 after a random length. Deterministic for a seed.
"""
from __future__ import annotations

import torch

VOCAB = 1000
TOPICS = 4
KEYWORDS = 20  # topic t owns tokens 1 + t*KEYWORDS .. (t+1)*KEYWORDS


def make_batch(n: int, seq: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Returns (input_ids int64 [n, seq], attention_mask int64 [n, seq], labels int64 [n])."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, TOPICS, (n,), generator=g)
    ids = torch.randint(1 + TOPICS * KEYWORDS, VOCAB, (n, seq), generator=g)
    lengths = torch.randint(max(2, seq // 2), seq + 1, (n,), generator=g)
    for t in range(TOPICS):  # a few keywords of other topics, more of the label's
        count = torch.where(labels == t, torch.randint(3, 6, (n,), generator=g), torch.randint(0, 2, (n,), generator=g))
        for i in range(n):
            pos = torch.randperm(int(lengths[i]), generator=g)[: int(count[i])]
            ids[i, pos] = 1 + t * KEYWORDS + torch.randint(0, KEYWORDS, (len(pos),), generator=g)
    mask = (torch.arange(seq)[None, :] < lengths[:, None]).long()
    return ids * mask, mask, labels
