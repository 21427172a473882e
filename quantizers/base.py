"""The quantizer protocol: `QuantizerOutput`, the `Quantizer` base class (layout, validation) and helpers."""
from __future__ import annotations

import math
from abc import ABCMeta, abstractmethod
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

INT64_LIMIT = 2**63
FLOAT32_MAX = float(torch.finfo(torch.float32).max)


class _QuantizedIndicesLoss(NamedTuple):
    quantized: Tensor
    indices: Tensor
    loss: Tensor


class QuantizerOutput(_QuantizedIndicesLoss):
    """Result of a quantizer forward pass: a named triple with `stats` as an attribute, so that both
    `out.quantized, out.indices, out.loss, out.stats` and vector-quantize-pytorch's habit
    `quantized, indices, loss = quantizer(z)` work.

    quantized: z's shape and dtype, forward value = codeword, straight-through gradient to z.
    indices: int64, z's shape without the channel axis.
    loss: scalar tensor (zero when the method has none).
    stats: detached scalar tensors for logging (not part of the tuple; {} when rebuilt from the
    three fields alone, as torch's pytree utilities do).
    """

    stats: dict[str, Tensor]

    def __new__(cls, quantized: Tensor, indices: Tensor, loss: Tensor, stats: dict[str, Tensor] | None = None):
        output = super().__new__(cls, quantized, indices, loss)
        output.stats = {} if stats is None else stats
        return output

    @classmethod
    def _make(cls, fields):
        return cls(*fields)

    def _replace(self, **changes):
        stats = changes.pop("stats", self.stats)
        return type(self)(*_QuantizedIndicesLoss._replace(self, **changes), stats)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(quantized={self.quantized!r}, indices={self.indices!r}, loss={self.loss!r}, "
                f"stats={self.stats!r})")


def straight_through(value: Tensor, source: Tensor) -> Tensor:
    """`value` exactly in the forward pass, identity gradient to `source`.

    Written value + (source − source): the added term is exactly zero for finite inputs, so the
    forward value equals the codeword bit for bit (unlike source + (value − source)).
    """
    return value.detach() + (source - source.detach())


class _NormalizeRows(torch.autograd.Function):
    """u = z / ‖z‖ per row with a hand-written backward (I − u uᵀ) g / ‖z‖: a handful of kernels
    and one autograd node instead of the ~20 that autograd records for the same arithmetic."""

    @staticmethod
    def forward(ctx, z_Nd: Tensor) -> Tensor:
        peak_N1 = z_Nd.abs().amax(dim=-1, keepdim=True)
        peak_N1 = peak_N1.masked_fill(peak_N1 == 0, 1.0)  # zero rows: divide by 1
        scaled_Nd = z_Nd / peak_N1
        # a nonzero row has a scaled entry ±1, so its norm is ≥ 1; a zero row's 0 becomes 1
        norm_N1 = torch.linalg.vector_norm(scaled_Nd, dim=-1, keepdim=True).clamp_min(1.0)
        u_Nd = scaled_Nd / norm_N1
        ctx.save_for_backward(u_Nd, norm_N1, peak_N1)
        return u_Nd

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_Nd: Tensor) -> Tensor:
        u_Nd, norm_N1, peak_N1 = ctx.saved_tensors
        along_N1 = (u_Nd * grad_Nd).sum(dim=-1, keepdim=True)
        return (grad_Nd - u_Nd * along_N1) / norm_N1 / peak_N1


def normalize_rows(z_Nd: Tensor) -> Tensor:
    """Rows scaled to unit L2 norm; an all-zero row stays zero (identity gradient there, no eps blow-up).

    Each row is first divided by its largest |entry|, so that the sum of squares cannot overflow
    (fp32 rows with entries near 1e19 and above would otherwise get an infinite norm and become 0).
    The gradient is the projection (I − u uᵀ) g / ‖z‖ (first order only: a second derivative
    through it raises).
    """
    return _NormalizeRows.apply(z_Nd)


class MixedRadix(nn.Module):
    """Mixed-radix integers: digits d_g in [0, radix_g) ↔ Σ_g d_g · ∏_{h<g} radix_h (digit 0 least
    significant). Place values are precomputed non-persistent int64 buffers (no per-call setup)."""

    def __init__(self, radices: list[int] | tuple[int, ...]) -> None:
        super().__init__()
        places = [math.prod(radices[:g]) for g in range(len(radices))]
        if math.prod(radices) >= INT64_LIMIT:
            raise ValueError(f"{math.prod(radices)} codes exceed what an int64 index can address")
        self.register_buffer("place_G", torch.tensor(places, dtype=torch.int64), persistent=False)
        self.register_buffer("radix_G", torch.tensor(list(radices), dtype=torch.int64), persistent=False)

    def encode(self, digits_NG: Tensor) -> Tensor:
        """Indices (N,) int64 of digit rows (N, G)."""
        if digits_NG.shape[-1] == 1:
            return digits_NG[..., 0].long()
        return (digits_NG.long() * self.place_G).sum(dim=-1)

    def decode(self, indices_N: Tensor) -> Tensor:
        """Digit rows (N, G) int64 of indices (N,)."""
        return torch.div(indices_N.long()[..., None], self.place_G, rounding_mode="floor") % self.radix_G


def zero_loss(reference: Tensor) -> Tensor:
    """A scalar zero on `reference`'s device (fp32), for methods without a loss."""
    return reference.new_zeros((), dtype=torch.float32)


def code_tolerance(dtype: torch.dtype) -> float:
    """How far (relative to the codeword's magnitude) given codes may sit from a codeword."""
    return 4.0 * torch.finfo(dtype).eps


def require_codes_match(codes_Nd: Tensor, expected_Nd: Tensor, dtype: torch.dtype) -> None:
    """ValueError unless every code is its codeword up to the rounding of `dtype`."""
    allowed_Nd = code_tolerance(dtype) * expected_Nd.abs().clamp_min(1.0)
    mismatch_N = ((codes_Nd - expected_Nd).abs() > allowed_Nd).any(dim=-1)
    if bool(mismatch_N.any()):
        raise ValueError(f"{int(mismatch_N.sum())} of {codes_Nd.shape[0]} code vectors are not codewords "
                         "of this quantizer")


def finite_option(value: float, name: str) -> float:
    """A float hyperparameter as float; TypeError when it is no number, ValueError naming it when
    it is NaN or ±inf."""
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a real number, got {value!r}") from error
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def squared_error_limit(numel: int, weight: float) -> float:
    """Largest |z − c| entry for which weight · mean((z − c)²) over `numel` entries, and the float32
    sum behind that mean, stay below float32's range (with a factor 4 to spare)."""
    return math.sqrt(FLOAT32_MAX / (4.0 * max(numel, abs(weight), 1.0)))


def require_tensor(tensor: Tensor, name: str) -> None:
    """TypeError unless `tensor` is a dense (strided) torch.Tensor that holds values (not meta)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.layout != torch.strided:
        raise TypeError(f"{name} must be a dense tensor, got layout {tensor.layout}")
    if tensor.is_meta:
        raise TypeError(f"{name} is on the meta device and holds no values")


def require_integer(tensor: Tensor, name: str) -> Tensor:
    """`tensor` as int64 after checking it is a dense integer torch.Tensor (TypeError otherwise)."""
    require_tensor(tensor, name)
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor, got dtype {tensor.dtype}")
    return tensor.long()


def require_finite(tensor: Tensor, name: str, limit: float = math.inf) -> None:
    """ValueError naming `name` when the tensor holds NaN or ±Inf or, given a finite `limit`, an
    entry above it in magnitude (one device sync either way)."""
    if math.isinf(limit):
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{name} contains non-finite values (NaN or Inf)")
        return
    peak = float(tensor.abs().amax())  # NaN propagates through amax
    if not math.isfinite(peak):
        raise ValueError(f"{name} contains non-finite values (NaN or Inf)")
    if peak > limit:
        raise ValueError(f"{name} has entries up to {peak:.3g} in magnitude; above {limit:.3g} this "
                         "quantizer's loss overflows float32: scale the input down")


class Quantizer(nn.Module, metaclass=ABCMeta):
    """Base class: handles the input layout, validation and reshaping; subclasses work on rows (N, dim).

    Subclasses implement `_quantize(z_Nd fp32) -> (quantized_Nd, indices_N, loss, stats)`,
    `_lookup(indices_N) -> codes_Nd fp32` and `_codes_to_indices(codes_Nd fp32, dtype) -> indices_N`.
    Inputs are cast to float32 first, so a float64 z beyond float32's range is non-finite (ValueError
    with `check_finite`) and a float64 row below its smallest subnormal is a zero row.
    """

    def __init__(self, dim: int, codebook_size: int, *, channel_first: bool = False,
                 check_finite: bool = True) -> None:
        super().__init__()
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        if not isinstance(codebook_size, int) or not 1 <= codebook_size < INT64_LIMIT:
            raise ValueError(f"codebook_size must be an integer in [1, 2^63), got {codebook_size!r}")
        self.dim = dim
        self.codebook_size = codebook_size
        self.channel_first = bool(channel_first)
        self.check_finite = bool(check_finite)

    @property
    def bits(self) -> float:
        """log2 of the codebook size."""
        return math.log2(self.codebook_size)

    def search_backend(self, z: Tensor) -> str:
        """How the nearest codeword is found for inputs like `z` (for benchmarks and logs)."""
        return "closed form"

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, codebook_size={self.codebook_size}, bits={self.bits:.3f}, "
                f"channel_first={self.channel_first}")

    def _input_limit(self, numel: int) -> float:
        """Largest |z| entry for which the loss and stats of a forward pass over `numel` entries
        stay finite in float32; inf where they are bounded for any finite z."""
        return math.inf

    # layout ---------------------------------------------------------------------------------
    def _to_rows(self, x: Tensor, name: str, *, check_finite: bool, loss_bounded: bool = False) -> Tensor:
        """x as float32 rows (N, dim), the dtype every quantizer computes in; with check_finite,
        ValueError on NaN/Inf after the cast (so float64 beyond float32's range is caught) and,
        with loss_bounded, on entries beyond `_input_limit` (where the loss would overflow)."""
        require_tensor(x, name)
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
        axis = 1 if self.channel_first else -1
        if x.ndim < (2 if self.channel_first else 1):
            layout = "(B, d, ...)" if self.channel_first else "(..., d)"
            raise ValueError(f"{name} must have layout {layout}, got shape {tuple(x.shape)}")
        if x.shape[axis] != self.dim:
            where = "axis 1 (channel_first=True)" if self.channel_first else "the last axis"
            raise ValueError(f"{name} must have {self.dim} channels on {where}, got shape {tuple(x.shape)}")
        if x.numel() == 0:
            raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
        if self.channel_first:
            x = x.movedim(1, -1)
        rows_Nd = x.reshape(-1, self.dim).float()
        if check_finite:
            limit = self._input_limit(rows_Nd.numel()) if loss_bounded else math.inf
            require_finite(rows_Nd, f"{name} as float32" if x.dtype == torch.float64 else name, limit)
        return rows_Nd

    def _from_rows(self, rows_Nd: Tensor, batch_shape: torch.Size) -> Tensor:
        x = rows_Nd.reshape(*batch_shape, self.dim)
        return x.movedim(-1, 1) if self.channel_first else x

    def _batch_shape(self, x: Tensor) -> torch.Size:
        return x.movedim(1, -1).shape[:-1] if self.channel_first else x.shape[:-1]

    # protocol -------------------------------------------------------------------------------
    def forward(self, z: Tensor) -> QuantizerOutput:
        z_Nd = self._to_rows(z, "z", check_finite=self.check_finite, loss_bounded=True)
        quantized_Nd, indices_N, loss, stats = self._quantize(z_Nd)
        batch_shape = self._batch_shape(z)
        return QuantizerOutput(
            self._from_rows(quantized_Nd.to(z.dtype), batch_shape),
            indices_N.reshape(batch_shape),
            loss,
            stats,
        )

    def check_indices(self, indices: Tensor) -> Tensor:
        """Indices as int64 after checking dtype and range [0, codebook_size)."""
        indices = require_integer(indices, "indices")
        if indices.numel() and bool((indices.min() < 0) | (indices.max() >= self.codebook_size)):
            raise ValueError(f"indices must lie in [0, {self.codebook_size}), got range "
                             f"[{int(indices.min())}, {int(indices.max())}]")
        return indices

    def indices_to_codes(self, indices: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
        """Codewords for `indices`, laid out as the forward output (channel axis per `channel_first`)."""
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        indices = self.check_indices(indices)
        if self.channel_first and indices.ndim < 1:
            raise ValueError("with channel_first=True, indices need a batch axis")
        codes_Nd = self._lookup(indices.reshape(-1))
        return self._from_rows(codes_Nd.to(dtype), indices.shape)

    def codes_to_indices(self, codes: Tensor) -> Tensor:
        """Indices of codewords given in the forward output's layout; non-codewords raise ValueError."""
        codes_Nd = self._to_rows(codes, "codes", check_finite=True)
        return self._codes_to_indices(codes_Nd, codes.dtype).reshape(self._batch_shape(codes))

    @abstractmethod
    def _quantize(self, z_Nd: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        """Implemented by each quantizer."""

    @abstractmethod
    def _lookup(self, indices_N: Tensor) -> Tensor:
        """Implemented by each quantizer."""

    @abstractmethod
    def _codes_to_indices(self, codes_Nd: Tensor, dtype: torch.dtype) -> Tensor:
        """Implemented by each quantizer."""
