"""Generated pairs go straight into TRL: ``Pairs.to_dataset()`` feeds ``trl.RewardTrainer``
for one step (a tiny random BERT with MiniLM's tokenizer; nothing is downloaded)."""

import pytest

import preflab

from .conftest import varied


@pytest.mark.slow
def test_a_generated_dataset_trains_trl_reward_trainer_for_one_step(tmp_path, prompts):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification
    from trl import RewardConfig, RewardTrainer

    from preflab.llm.fake import FakeBackend
    from preflab.rm.backbone import resolve_model

    pairs = preflab.generate("rlcd", prompts, llm=FakeBackend(default=varied), cache=False, progress=False)
    pairs = preflab.Pairs([p.model_copy(update={"margin": 0.5}) for p in pairs])  # TRL reads a margin column
    dataset = pairs.to_dataset()
    assert {"prompt", "chosen", "rejected", "margin", "provenance"} <= set(dataset.column_names)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("minilm"))
    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=64, num_labels=1))
    before = [p.detach().clone() for p in model.parameters()]
    args = RewardConfig(output_dir=str(tmp_path), per_device_train_batch_size=4, max_steps=1, report_to=[],
                        use_cpu=True, save_strategy="no", disable_tqdm=True, eos_token="[SEP]")
    result = RewardTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer).train()
    assert result.global_step == 1 and torch.isfinite(torch.tensor(result.training_loss))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert list(preflab.read_pairs(dataset)) == list(pairs)  # and back, provenance included
