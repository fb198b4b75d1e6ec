"""Rewards for a batch of rendered items, with or without prefix sharing.

``rewards(backbone, items)`` returns a [B, K] tensor (item b, response k) and, on request, the
pooled representation of every sequence (for the SimCSE loss). Two paths:

- full: every prompt+response sequence, split into length groups (``group_overhead``), one
  forward per group; decoders are pooled at the last real token (attention mask), encoders
  use their own head. A sequence is one segment (every token type id 0), as a tokenizer gives
  one text: what TRL and transformers feed a saved RM (docs/reward-models.md#outside-preflab).
- shared (decoders): the prompts run once with a key/value cache; the cache is repeated for
  the K responses, which run as a continuation with explicit positions. Gradients flow
  through the cache into the prompt. Equal to the full path up to float rounding (a test
  checks it).
"""

from __future__ import annotations

import torch

from preflab.rm.backbone import Backbone
from preflab.rm.batching import full_sequences, pad_right, shared_batch, split_by_length
from preflab.rm.render import Encoded


def _pool_last(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    last = mask.sum(-1) - 1
    return hidden[torch.arange(hidden.shape[0]), last]


def _decoder_group(bb: Backbone, embeds, mask, want_reps: bool):
    out = bb.body(inputs_embeds=embeds, attention_mask=mask, use_cache=False)
    h = _pool_last(out.last_hidden_state, mask)
    return bb.head(h).squeeze(-1), (h if want_reps else None)


def _encoder_group(bb: Backbone, embeds, padded, want_reps: bool):
    kwargs = {"token_type_ids": padded.token_type_ids} if padded.token_type_ids is not None else {}
    out = bb.model(inputs_embeds=embeds, attention_mask=padded.attention_mask, output_hidden_states=want_reps, **kwargs)
    reps = out.hidden_states[-1][:, 0] if want_reps else None
    return out.logits.squeeze(-1), reps


def _group_embeds(pieces: list[torch.Tensor], group: list[int]) -> torch.Tensor:
    """[G, width, H] input embeddings of a group, right-padded with zeros (padded positions are
    masked out of attention and never pooled). ``pieces`` come from one ``torch.split`` of a
    single flat lookup, whose backward is one concatenation rather than a full-size zero
    gradient per slice."""
    return torch.nn.utils.rnn.pad_sequence([pieces[i] for i in group], batch_first=True)


def rewards_full(bb: Backbone, items: list[Encoded], group_overhead: float = 64.0, want_reps: bool = False):
    """[B, K] rewards (and [B·K, H] representations) via whole sequences.

    The word embeddings of all sequences are looked up in ONE call, then cut per length
    group: the embedding matrix's gradient (the largest tensor of small models) is then
    built once per batch instead of once per group.
    """
    seqs, _ = full_sequences(items)
    k = len(items[0].responses)
    out = [None] * len(seqs)
    reps = [None] * len(seqs)
    flat = bb.body.get_input_embeddings()(torch.tensor([t for s in seqs for t in s], dtype=torch.long))
    pieces = torch.split(flat, [len(s) for s in seqs])
    for group in split_by_length([len(s) for s in seqs], group_overhead):
        padded = pad_right([seqs[i] for i in group], bb.tokenizer.pad_token_id)
        embeds = _group_embeds(pieces, group)
        if bb.is_decoder:
            r, h = _decoder_group(bb, embeds, padded.attention_mask, want_reps)
        else:
            r, h = _encoder_group(bb, embeds, padded, want_reps)
        for j, i in enumerate(group):
            out[i] = r[j]
            if want_reps:
                reps[i] = h[j]
    rewards = torch.stack(out).view(len(items), k)
    return rewards, (torch.stack(reps) if want_reps else None)


def _sub_cache(cache, rows: torch.Tensor, config):
    """A cache holding only ``rows`` of ``cache`` (differentiable: index_select)."""
    from transformers import DynamicCache

    sub = DynamicCache(config=config)
    for i, layer in enumerate(cache.layers):
        sub.update(layer.keys.index_select(0, rows), layer.values.index_select(0, rows), i)
    return sub


def rewards_shared(bb: Backbone, items: list[Encoded], want_reps: bool = False, group_overhead: float = 64.0):
    """[B, K] rewards for a decoder, computing each prompt once.

    Prompts run left-padded in one forward with a key/value cache; the B·K responses are then
    split into length groups (as in :func:`rewards_full`) and each group continues from the
    cache rows of its prompts, with explicit positions. All token embeddings come from one
    lookup so the embedding gradient is built once.
    """
    if not bb.is_decoder:
        raise ValueError("prefix sharing needs a causal (decoder) model")
    k = len(items[0].responses)
    batch = shared_batch(items, bb.tokenizer.pad_token_id)
    base = bb.body
    pm = batch.prompts.attention_mask
    resp = [r for e in items for r in e.responses]
    emb = base.get_input_embeddings()
    flat = emb(torch.cat([batch.prompts.input_ids.flatten(), torch.tensor([t for r in resp for t in r], dtype=torch.long)]))
    n_prompt = batch.prompts.input_ids.numel()
    prompt_flat, *pieces = torch.split(flat, [n_prompt] + [len(r) for r in resp])
    prompt_embeds = prompt_flat.view(*batch.prompts.input_ids.shape, -1)
    p_pos = (pm.cumsum(-1) - 1).clamp(min=0)
    cache = base(inputs_embeds=prompt_embeds, attention_mask=pm, position_ids=p_pos, use_cache=True).past_key_values
    prompt_lens = pm.sum(-1)
    out: list = [None] * len(resp)
    hs: list = [None] * len(resp)
    for group in split_by_length([len(r) for r in resp], group_overhead):
        rows = batch.rows_of_prompt[group]
        width = max(len(resp[i]) for i in group)
        rm = torch.zeros((len(group), width), dtype=torch.long)
        for j, i in enumerate(group):
            rm[j, :len(resp[i])] = 1
        embeds = _group_embeds(pieces, group)
        r_pos = prompt_lens[rows][:, None] + torch.arange(width)[None, :]
        mask = torch.cat([pm[rows], rm], dim=1)
        sub = _sub_cache(cache, rows, bb.hf_model.config)
        h = _pool_last(base(inputs_embeds=embeds, attention_mask=mask, position_ids=r_pos, past_key_values=sub,
                            use_cache=True).last_hidden_state, rm)
        r = bb.head(h).squeeze(-1)
        for j, i in enumerate(group):
            out[i], hs[i] = r[j], h[j]
    rewards = torch.stack(out).view(len(items), k)
    return rewards, (torch.stack(hs) if want_reps else None)


def rewards(bb: Backbone, items: list[Encoded], *, prefix_sharing: bool = True, group_overhead: float = 64.0,
            want_reps: bool = False):
    """[B, K] rewards; the shared path for decoders when ``prefix_sharing``."""
    if prefix_sharing and bb.is_decoder:
        return rewards_shared(bb, items, want_reps, group_overhead)
    return rewards_full(bb, items, group_overhead, want_reps)
