"""Fused linear + cross-entropy (+ Z-loss) that never holds all (N × V) logits: a chunked autograd function.

Why hand-written: torch's `F.linear_cross_entropy` (torch ≥ 2.12 with chunking options) has no
Z-loss term and does not return the log-partition, so adding PaLM's Z-loss (Chowdhery et al. 2022,
arXiv 2204.02311, §5) would need a second pass over the V-way matmul; the GPU machine's torch
2.11 lacks it altogether. One chunked function with recomputation in backward (as in Cut Your
Losses in Large-Vocabulary Language Models, Wijmans et al. 2024, arXiv 2411.09009, but chunked
over rows instead of a custom kernel) serves every torch version and dtype with one behaviour.
`gradients_in_forward` trades the recomputation for keeping the gradients (as torch's chunked op).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

DEFAULT_MEMORY_BUDGET_BYTES = 1 << 30  # logits + their gradient of one chunk of rows
_BUFFERS_PER_LOGIT = 3  # logits, softmax, gradient of one chunk, in the accumulation dtype


def _accumulation_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.promote_types(dtype, torch.float32)


def chunk_rows(num_classes: int, dtype: torch.dtype, memory_budget_bytes: int) -> int:
    """Rows per chunk so that a chunk's logits, softmax and gradient fit `memory_budget_bytes`."""
    per_row = num_classes * _BUFFERS_PER_LOGIT * torch.finfo(_accumulation_dtype(dtype)).bits // 8
    return max(1, memory_budget_bytes // per_row)


def _check_arguments(hidden_ND: Tensor, weight_VD: Tensor, target_N: Tensor, bias_V: Tensor | None,
                     z_loss_weight: float, memory_budget_bytes: int) -> None:
    for name, tensor in (("hidden_ND", hidden_ND), ("weight_VD", weight_VD)):
        if not isinstance(tensor, Tensor) or not tensor.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor")
        if tensor.ndim != 2 or tensor.numel() == 0:
            raise ValueError(f"{name} must be a non-empty 2-D tensor, got shape {tuple(tensor.shape)}")
    if hidden_ND.shape[1] != weight_VD.shape[1]:
        raise ValueError(f"hidden_ND (N, D) and weight_VD (V, D) disagree on D: "
                         f"{tuple(hidden_ND.shape)} vs {tuple(weight_VD.shape)}")
    if weight_VD.dtype != hidden_ND.dtype or weight_VD.device != hidden_ND.device:
        raise TypeError(f"weight_VD ({weight_VD.dtype}, {weight_VD.device}) must match hidden_ND "
                        f"({hidden_ND.dtype}, {hidden_ND.device})")
    if bias_V is not None:
        if not isinstance(bias_V, Tensor) or bias_V.dtype != hidden_ND.dtype or bias_V.device != hidden_ND.device:
            raise TypeError("bias_V must be a tensor of hidden_ND's dtype and device")
        if tuple(bias_V.shape) != (weight_VD.shape[0],):
            raise ValueError(f"bias_V must have shape ({weight_VD.shape[0]},), got {tuple(bias_V.shape)}")
    if not isinstance(target_N, Tensor) or target_N.dtype != torch.int64:
        raise TypeError("target_N must be an int64 torch.Tensor of class indices")
    if tuple(target_N.shape) != (hidden_ND.shape[0],) or target_N.device != hidden_ND.device:
        raise ValueError(f"target_N must have shape ({hidden_ND.shape[0]},) on hidden_ND's device, "
                         f"got {tuple(target_N.shape)} on {target_N.device}")
    if bool((target_N.min() < 0) | (target_N.max() >= weight_VD.shape[0])):
        raise ValueError(f"target_N must lie in [0, {weight_VD.shape[0]}), got range "
                         f"[{int(target_N.min())}, {int(target_N.max())}]")
    if not bool(torch.isfinite(hidden_ND).all()):
        raise ValueError("hidden_ND has non-finite values")
    if isinstance(z_loss_weight, bool) or not math.isfinite(z_loss_weight) or z_loss_weight < 0:
        raise ValueError(f"z_loss_weight must be a finite number ≥ 0, got {z_loss_weight!r}")
    if isinstance(memory_budget_bytes, bool) or not isinstance(memory_budget_bytes, int) or memory_budget_bytes < 1:
        raise ValueError(f"memory_budget_bytes must be a positive int, got {memory_budget_bytes!r}")


def _chunk_logits(hidden_nD: Tensor, weight_VD: Tensor, bias_V: Tensor | None) -> Tensor:
    return F.linear(hidden_nD, weight_VD, bias_V).to(_accumulation_dtype(hidden_nD.dtype))


class _Gradients:
    """Gradients of hidden, weight and bias (those asked for), filled chunk by chunk."""

    def __init__(self, hidden_ND: Tensor, weight_VD: Tensor, needs: tuple[bool, bool, bool]) -> None:
        accumulation = _accumulation_dtype(hidden_ND.dtype)
        self.hidden_ND = torch.empty_like(hidden_ND) if needs[0] else None
        self.weight_VD = torch.zeros_like(weight_VD, dtype=accumulation) if needs[1] else None
        self.bias_V = torch.zeros(weight_VD.shape[0], dtype=accumulation, device=weight_VD.device) \
            if needs[2] else None

    def add_chunk(self, start: int, hidden_nD: Tensor, weight_VD: Tensor, logits_nV: Tensor, lse_n: Tensor,
                  target_n: Tensor, z_loss_weight: float, scale: Tensor) -> None:
        """Add the chunk's share; scale = d(output)/d(mean loss) / N."""
        # d/dlogit_j [lse − logit_t + λ·lse²] = p_j·(1 + 2λ·lse) − [j = t]
        grad_nV = torch.exp(logits_nV - lse_n[:, None]) * ((1 + 2 * z_loss_weight * lse_n) * scale)[:, None]
        grad_nV.scatter_add_(1, target_n[:, None], (-scale).expand(hidden_nD.shape[0], 1).contiguous())
        grad_nV = grad_nV.to(hidden_nD.dtype)
        if self.hidden_ND is not None:
            self.hidden_ND[start:start + hidden_nD.shape[0]] = grad_nV @ weight_VD
        if self.weight_VD is not None:
            self.weight_VD += (grad_nV.t() @ hidden_nD).to(self.weight_VD.dtype)
        if self.bias_V is not None:
            self.bias_V += grad_nV.sum(dim=0, dtype=self.bias_V.dtype)

    def result(self, dtype: torch.dtype, scale: Tensor | None = None) -> tuple[Tensor | None, ...]:
        """(hidden, weight, bias) gradients in `dtype` (the inputs' common dtype), times `scale` if given."""
        grads = (self.hidden_ND, self.weight_VD, self.bias_V)
        if scale is not None:
            grads = tuple(None if grad is None else grad * scale.to(grad.dtype) for grad in grads)
        return tuple(None if grad is None else grad.to(dtype) for grad in grads)


class _ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Σ_n [lse_n − logit_{n,t_n} + λ·lse_n²] / N over row chunks. Backward recomputes each chunk's
    logits, or (gradients_in_forward) forward already adds each chunk's gradient for a unit output
    gradient and backward only scales them: one V-way matmul less, N·D + V·D more memory."""

    @staticmethod
    def forward(ctx, hidden_ND: Tensor, weight_VD: Tensor, bias_V: Tensor | None, target_N: Tensor,
                z_loss_weight: float, rows: int, gradients_in_forward: bool) -> Tensor:
        count = hidden_ND.shape[0]
        lse_N = hidden_ND.new_empty(count, dtype=_accumulation_dtype(hidden_ND.dtype))
        total = lse_N.new_zeros(())
        needs = tuple(ctx.needs_input_grad[:3])
        gradients = _Gradients(hidden_ND, weight_VD, needs) if gradients_in_forward and any(needs) else None
        for start in range(0, count, rows):
            hidden_nD, target_n = hidden_ND[start:start + rows], target_N[start:start + rows]
            logits_nV = _chunk_logits(hidden_nD, weight_VD, bias_V)
            lse_n = torch.logsumexp(logits_nV, dim=1)
            target_logit_n = logits_nV.gather(1, target_n[:, None])[:, 0]
            total = total + (lse_n - target_logit_n).sum() + z_loss_weight * lse_n.square().sum()
            lse_N[start:start + rows] = lse_n
            if gradients is not None:
                gradients.add_chunk(start, hidden_nD, weight_VD, logits_nV, lse_n, target_n, z_loss_weight,
                                    lse_N.new_tensor(1 / count))
        ctx.gradients = gradients
        if gradients is None:
            ctx.save_for_backward(hidden_ND, weight_VD, bias_V, target_N, lse_N)
        ctx.z_loss_weight, ctx.rows, ctx.dtype = z_loss_weight, rows, hidden_ND.dtype
        return (total / count).to(hidden_ND.dtype)

    @staticmethod
    def backward(ctx, grad_loss: Tensor):
        if ctx.gradients is not None:
            return (*ctx.gradients.result(ctx.dtype, grad_loss), None, None, None, None)
        hidden_ND, weight_VD, bias_V, target_N, lse_N = ctx.saved_tensors
        count, rows = hidden_ND.shape[0], ctx.rows
        scale = grad_loss.to(lse_N.dtype) / count
        gradients = _Gradients(hidden_ND, weight_VD, tuple(ctx.needs_input_grad[:3]))
        for start in range(0, count, rows):
            hidden_nD = hidden_ND[start:start + rows]
            logits_nV = _chunk_logits(hidden_nD, weight_VD, bias_V)
            gradients.add_chunk(start, hidden_nD, weight_VD, logits_nV, lse_N[start:start + rows],
                                target_N[start:start + rows], ctx.z_loss_weight, scale)
        return (*gradients.result(weight_VD.dtype), None, None, None, None)


def fused_linear_cross_entropy(hidden_ND: Tensor, weight_VD: Tensor, target_N: Tensor, *,
                               bias_V: Tensor | None = None, z_loss_weight: float = 0.0,
                               memory_budget_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES,
                               gradients_in_forward: bool = False) -> Tensor:
    """Mean cross-entropy of logits = hidden_ND @ weight_VDᵀ (+ bias_V) against target_N, plus
    z_loss_weight × mean logsumexp(logits)², as a scalar of hidden_ND's dtype.

    Rows are processed in chunks whose logits, softmax and gradient take at most
    `memory_budget_bytes` (at least one row per chunk) in float32 (float64 for float64 inputs);
    backward recomputes each chunk's logits, or with `gradients_in_forward` forward computes the
    gradients at once (no recomputation; keeps N·D + V·D of gradients; no double backward).
    Differentiable in hidden_ND, weight_VD and bias_V.
    ValueError/TypeError on wrong shapes, dtypes, devices, targets outside [0, V) or non-finite hidden.
    """
    _check_arguments(hidden_ND, weight_VD, target_N, bias_V, z_loss_weight, memory_budget_bytes)
    rows = chunk_rows(weight_VD.shape[0], hidden_ND.dtype, memory_budget_bytes)
    return _ChunkedLinearCrossEntropy.apply(hidden_ND, weight_VD, bias_V, target_N, float(z_loss_weight), rows,
                                            bool(gradients_in_forward))
