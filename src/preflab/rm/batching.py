"""Length-grouped batches and the tensors for one forward pass.

Why: on CPU every padded token costs as much as a real one. Batches are made of pairs of
similar length (sorted, then the batch order shuffled with a seed), and inside a batch the
2·B sequences are split into length groups when that saves more padded tokens than the
fixed cost of an extra forward. For decoders the prompt is computed once per pair and the two
responses continue from its key/value cache (prefix sharing): prompt tokens cost half.

>>> length_grouped_batches([5, 1, 4, 2], batch_size=2, seed=0, shuffle=False)
[[1, 3], [2, 0]]
>>> split_by_length([100, 98, 50, 49], overhead_tokens=50)
[[0, 1], [2, 3]]
>>> split_by_length([100, 98, 50, 49], overhead_tokens=200)
[[0, 1, 2, 3]]
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from preflab.rm.render import Encoded


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int, shuffle: bool = True) -> list[list[int]]:
    """Indices sorted by length and cut into batches; batch order shuffled (seeded)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        random.Random(seed).shuffle(batches)
    return batches


def split_by_length(lengths: list[int], overhead_tokens: float = 256) -> list[list[int]]:
    """Partition positions into length groups minimising padded tokens + ``overhead_tokens``
    per extra forward (exact dynamic programme over the lengths sorted longest first).

    Why a cost per group: on CPU each forward/backward has a fixed cost (weight-gradient
    accumulation, kernel launches) worth a few hundred tokens, so splitting only pays when it
    removes more padding than that. ``overhead_tokens=inf`` gives one group.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    ls = [lengths[i] for i in order]
    n = len(ls)
    best = [0.0] + [float("inf")] * n  # best[j]: cost of the first j (longest) sequences
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):  # group = sorted positions i..j-1, padded to ls[i]
            c = best[i] + (j - i) * ls[i] + (overhead_tokens if i else 0)
            if c < best[j]:
                best[j], cut[j] = c, i
    groups, j = [], n
    while j > 0:
        groups.append(sorted(order[cut[j]:j]))
        j = cut[j]
    return groups[::-1]


@dataclass
class Padded:
    """Right-padded ids with their mask (and segment ids for encoders)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor | None = None

    @property
    def real_tokens(self) -> int:
        return int(self.attention_mask.sum())


def pad_right(seqs: list[list[int]], pad_id: int, prompt_lens: list[int] | None = None) -> Padded:
    """Pad to the longest; ``prompt_lens`` gives segment ids 0 (prompt) / 1 (response)."""
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    types = torch.zeros((len(seqs), n), dtype=torch.long) if prompt_lens is not None else None
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, :len(s)] = 1
        if types is not None:
            types[i, prompt_lens[i]:len(s)] = 1
    return Padded(ids, mask, types)


def pad_left(seqs: list[list[int]], pad_id: int) -> Padded:
    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, n - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, n - len(s):] = 1
    return Padded(ids, mask)


@dataclass
class SharedBatch:
    """Prefix-shared inputs for B prompts with K responses each (responses row k·B … ).

    ``rows_of_prompt`` maps every response row to its prompt row."""

    prompts: Padded
    responses: Padded
    rows_of_prompt: torch.Tensor


def shared_batch(items: list[Encoded], pad_id: int) -> SharedBatch:
    """Left-padded prompts [B, Lp], right-padded responses [B·K, Lr] (response k of item b
    sits at row b·K + k), so the prompt cache is repeated with ``repeat_interleave(K)``."""
    k = len(items[0].responses)
    prompts = pad_left([e.prompt for e in items], pad_id)
    responses = pad_right([r for e in items for r in e.responses], pad_id)
    rows = torch.arange(len(items)).repeat_interleave(k)
    return SharedBatch(prompts, responses, rows)


def full_sequences(items: list[Encoded]) -> tuple[list[list[int]], list[int]]:
    """Every (prompt + response) sequence, item-major (item b, response k at b·K + k), and
    the prompt length of each (for segment ids)."""
    seqs, plens = [], []
    for e in items:
        for r in e.responses:
            seqs.append(e.prompt + r)
            plens.append(len(e.prompt))
    return seqs, plens
