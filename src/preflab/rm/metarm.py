"""MetaRM: keep a reward model able to tell apart responses of the *current* policy.

Wang et al., "Secrets of RLHF in Large Language Models Part II: Reward Modeling",
arXiv 2401.06080, §MetaRM. As a policy improves, its responses drift away from the
RM's training distribution and the RM's rewards for them bunch together (it can no longer rank
them). MetaRM adds, before every training step, one gradient *ascent* step on the difference
loss of a meta set S (prompts with k responses sampled from the current policy)::

    J(θ; S) = (2/k²) Σ_{i<j} σ(|r(x, sᵢ) − r(x, sⱼ)|)        (mean over the meta prompts)
    θ′ = θ + η ∇J(θ; S)                                         (ascent: spread the policy's rewards)
    θ ← θ − α ∇_{θ′} L_BT(θ′; batch)                            (first order: the BT gradient taken at θ′)

When to use it: the RM will be used during (iterative) RLHF on a policy whose samples differ
from the preference data, and you can sample the current policy (any preflab LLM backend:
``preflab meta-set``). With preference data from the same distribution as the policy it only
adds cost. Its benefit shows as better accuracy on pairs from the shifted distribution; on the
original distribution expect roughly equal accuracy.

Example meta-set row (JSONL): ``{"prompt": "Name a fruit.", "responses": ["Apple.", "A banana!", "Kiwi"]}``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from preflab.errors import InputError
from preflab.records import Message, text_prompt


def difference_objective(r: torch.Tensor) -> torch.Tensor:
    """J for a [B, k] reward tensor: (2/k²) Σ_{i<j} σ(|rᵢ − rⱼ|), averaged over the B prompts.

    >>> round(float(difference_objective(torch.tensor([[0.0, 0.0]]))), 4)  # (2/4)·σ(0)
    0.25
    """
    k = r.shape[1]
    diff = (r.unsqueeze(2) - r.unsqueeze(1)).abs()
    upper = torch.triu(torch.ones(k, k, dtype=torch.bool, device=r.device), diagonal=1)
    return (2.0 / k**2) * torch.sigmoid(diff[:, upper]).sum(dim=1).mean()


def read_meta_set(path: str | Path) -> list[tuple[list[Message], list[str]]]:
    """Rows ``{"prompt": text or messages, "responses": [k ≥ 2 strings]}`` with the same k."""
    from preflab.io.containers import iter_rows
    from preflab.records import PromptRecord, build

    out: list[tuple[list[Message], list[str]]] = []
    k = None
    for loc, row in iter_rows(str(path)):
        responses = row.get("responses")
        if not isinstance(responses, list) or len(responses) < 2 or not all(isinstance(r, str) for r in responses):
            raise InputError("expected a list of at least 2 response strings", field="responses", **loc.where())
        if k is not None and len(responses) != k:
            raise InputError(f"every prompt needs the same number of responses ({k}), got {len(responses)}",
                             field="responses", **loc.where())
        k = len(responses)
        prompt = row.get("prompt")
        record = build(PromptRecord, {"prompt": text_prompt(prompt) if isinstance(prompt, str) else prompt}, **loc.where())
        out.append((record.prompt, responses))
    if not out:
        raise InputError("the meta set is empty", path=str(path))
    return out


@dataclass
class MetaStep:
    """The ascent half of a MetaRM step. ``ascend`` moves the parameters to θ′ and returns θ;
    ``restore`` puts θ back while keeping the gradients computed at θ′."""

    backbone: Any
    items: list[Any]  # Encoded prompt groups (k responses each)
    lr: float
    batch: int
    seed: int
    prefix_sharing: bool = False
    precision: str = "fp32"

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.last_objective = float("nan")

    def ascend(self, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        from preflab.rm.forward import rewards

        chosen = self._rng.sample(self.items, min(self.batch, len(self.items)))
        saved = [p.detach().clone() for p in params]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            r, _ = rewards(self.backbone, chosen, prefix_sharing=self.prefix_sharing)
            objective = difference_objective(r.float())
        grads = torch.autograd.grad(objective, list(params), allow_unused=True)
        with torch.no_grad():
            for p, g in zip(params, grads):
                if g is not None:
                    p.add_(g, alpha=self.lr)
        self.last_objective = float(objective.detach())
        return saved

    @staticmethod
    def restore(params: Sequence[torch.Tensor], saved: Sequence[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, s in zip(params, saved):
                p.copy_(s)


def build_meta_step(backbone: Any, renderer: Any, path: str | Path, *, lr: float, batch: int, seed: int,
                    prefix_sharing: bool, precision: str) -> MetaStep:
    items = [renderer.encode(prompt, responses) for prompt, responses in read_meta_set(path)]
    return MetaStep(backbone, items, lr, batch, seed, prefix_sharing, precision)


def sample_meta_set(prompts: Sequence[Any], llm: Any, *, k: int, temperature: float, max_tokens: int,
                    seed: int) -> list[dict[str, Any]]:
    """k distinct samples per prompt from the current policy (any preflab LLM); prompts whose
    samples are not k distinct non-empty texts are left out."""
    from preflab.llm.base import Request

    requests = [Request(p.prompt, {"n": k, "temperature": temperature, "max_tokens": max_tokens, "seed": seed}, "meta-set")
                for p in prompts]
    rows = []
    for prompt, outs in zip(prompts, llm.complete_many(requests)):
        texts = [o.text.strip() for o in outs]
        if all(texts) and len(set(texts)) == k:
            rows.append({"prompt": [m.model_dump() for m in prompt.prompt], "responses": texts,
                         "provenance": {"generator": {"backend": llm.kind, "model": llm.model_id}, "seed": seed,
                                        "temperature": temperature, "prompt_id": prompt.id}})
    return rows
