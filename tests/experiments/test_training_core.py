"""The training core's pieces: EMA, learning-rate schedule."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from experiments.training.ema import ModelEma
from experiments.training.schedule import WarmupCosine


def test_ema_follows_timm_warmup_decay() -> None:
    model = nn.Linear(2, 1, bias=False)
    nn.init.zeros_(model.weight)
    ema = ModelEma(model, decay=0.9)
    expected = torch.zeros(1, 2)
    for update in range(1, 6):
        with torch.no_grad():
            model.weight.add_(1.0)
        ema.update(model)
        decay = 0.0 if update == 1 else min(0.9, 1 - update ** (-2 / 3))  # the first update copies
        expected = decay * expected + (1 - decay) * model.weight.detach()
    torch.testing.assert_close(ema.module.weight, expected)
    assert ema.updates == 5 and not ema.module.weight.requires_grad
    with pytest.raises(ValueError, match="decay"):
        ModelEma(model, decay=1.0)


def test_warmup_cosine_schedule_values() -> None:
    schedule = WarmupCosine(warmup_steps=4, total_steps=14, min_ratio=0.1)
    assert [schedule(step) for step in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert schedule(9) == pytest.approx(0.1 + 0.9 * 0.5)  # halfway through the decay
    assert schedule(14) == pytest.approx(0.1) and schedule(100) == pytest.approx(0.1)
    optimizer = torch.optim.AdamW([nn.Parameter(torch.zeros(1))], lr=1.0)
    state = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule).state_dict()
    assert state["lr_lambdas"] == [{"warmup_steps": 4, "total_steps": 14, "min_ratio": 0.1}]
    with pytest.raises(ValueError):
        WarmupCosine(warmup_steps=-1, total_steps=10)
