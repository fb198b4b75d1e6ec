"""The pre-fill block arithmetic: where a prompt's canonical blocks fall, and how much of a
stream pre-filled earlier serves a new prompt unchanged.

Why fixed blocks: llama-cpp-python re-uses the KV cache of a prompt prefix shared with the
previous call but evaluates the rest in a batch of another shape, so logits differ in the last
bits and a seeded sample changes with what ran before (measured: 4 of 15 repeated-prompt
samples differed from the same sample generated alone; a resumed job would not equal an
uninterrupted one). Resetting before every call fixes that but re-evaluates the prompt. So
preflab pre-fills all but a prompt's last token in blocks at fixed positions (every
``prefix_block`` tokens up to 8 blocks, where shared heads such as system prompts end, then
doubling), keeping only whole blocks a previous pre-fill computed the same way: every sample
sees the same arithmetic whatever ran before, and n samples of one prompt pay for it once.
Both decoders (:mod:`preflab.llm.llamacpp.single`, :mod:`preflab.llm.llamacpp.batch`) use it.
"""

from __future__ import annotations


def canonical_blocks(start: int, end: int, first: int, n_batch: int) -> list[tuple[int, int]]:
    """The pre-fill blocks covering ``[start, end)``: ``first`` tokens each up to ``8 * first``,
    then doubling (64, 128, 256, ...), each cut into ``n_batch`` pieces as ``Llama.eval`` does.

    >>> canonical_blocks(0, 70, 8, 512)[-3:]
    [(48, 56), (56, 64), (64, 70)]
    >>> canonical_blocks(64, 600, 8, 512)
    [(64, 128), (128, 256), (256, 512), (512, 600)]
    """
    out, pos = [], start
    while pos < end:
        stop = min(pos + (first if pos < 8 * first else pos), end)
        out.extend((a, min(a + n_batch, stop)) for a in range(pos, stop, n_batch))
        pos = stop
    return out


def block_boundary(n: int, first: int) -> int:
    """The largest canonical block boundary <= n (see :func:`canonical_blocks`).

    >>> [block_boundary(n, 8) for n in (7, 8, 63, 64, 127, 128, 300)]
    [0, 8, 56, 64, 64, 128, 256]
    """
    if n < 8 * first:
        return n // first * first
    p = 8 * first
    while p * 2 <= n:
        p *= 2
    return p


def reusable_prefix(have: list[int], target: list[int], first: int) -> int:
    """How many leading tokens of a stream pre-filled with ``have`` serve ``target`` unchanged:
    everything for the same tokens again, else the whole blocks both share.

    >>> reusable_prefix([1, 2, 3], [1, 2, 3], 2), reusable_prefix(list(range(20)), list(range(9)) + [0], 2)
    (3, 8)
    """
    common = 0
    for a, b in zip(have, target):
        if a != b:
            break
        common += 1
    if common == len(target) == len(have):
        return common
    return block_boundary(min(common, block_boundary(len(have), first)), first)
