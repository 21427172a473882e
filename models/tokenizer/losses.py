"""Tokenizer training losses: L1 + LPIPS + quantizer loss, hinge GAN with VQGAN's adaptive weight, VF alignment."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Literal

import torch
from torch import nn

from models.tokenizer.discriminator import PatchDiscriminator, hinge_discriminator_loss, hinge_generator_loss
from models.tokenizer.autoencoder import TokenizerOutput
from models.tokenizer.vf_loss import DinoFeatures, vf_alignment_losses


@dataclass
class GanConfig:
    """Hinge GAN on a PatchGAN discriminator; weight 0 builds no discriminator at all."""

    weight: float = 0.0
    start_step: int = 20000
    adaptive: bool = True
    max_adaptive_weight: float = 1e4
    channels: int = 64
    num_layers: int = 3


@dataclass
class VFConfig:
    """VF alignment with a frozen DINOv2; weight 0 disables it. `weights` is a user-supplied safetensors file."""

    weight: float = 0.0
    weights: str = ""
    model_name: str = "vit_small_patch14_dinov2"
    # DINOv2 input side; 0 picks (crop / patch) · 14 so that its feature grid equals the latent grid.
    image_size: int = 0
    margin_cos: float = 0.5
    margin_distance: float = 0.25
    adaptive: bool = True
    max_adaptive_weight: float = 1e4


@dataclass
class LossConfig:
    """Weights of the generator's loss terms; `quantizer` scales the quantizer's own loss (commitment, entropy)."""

    l1: float = 1.0
    lpips: float = 0.1
    lpips_net: Literal["vgg", "alex"] = "vgg"
    quantizer: float = 1.0
    gan: GanConfig = field(default_factory=GanConfig)
    vf: VFConfig = field(default_factory=VFConfig)


def adaptive_weight(reference_loss: torch.Tensor, loss: torch.Tensor, parameter: torch.Tensor,
                    max_weight: float) -> torch.Tensor:
    """‖∇_p reference_loss‖ / (‖∇_p loss‖ + 1e-4), clamped to [0, max_weight], detached (VQGAN, Esser et al. 2021)."""
    (reference_grad,) = torch.autograd.grad(reference_loss, parameter, retain_graph=True)
    (grad,) = torch.autograd.grad(loss, parameter, retain_graph=True)
    return (reference_grad.norm() / (grad.norm() + 1e-4)).clamp(0.0, max_weight).detach()


@contextmanager
def frozen(module: nn.Module) -> Iterator[nn.Module]:
    """Parameters of `module` do not require grad inside the block (so a generator pass leaves them alone)."""
    flags = [parameter.requires_grad for parameter in module.parameters()]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for parameter, flag in zip(module.parameters(), flags, strict=True):
            parameter.requires_grad_(flag)


class GeneratorLoss(nn.Module):
    """Total generator loss of one batch and a dict of detached terms for logging.

    rec = l1·|x − x̂| + lpips·LPIPS(x̂, x);   total = rec + quantizer·L_q
        + gan·λ_gan·(−D(x̂))           from `gan.start_step` on, λ_gan adaptive at the decoder's last layer
        + vf·λ_vf·(L_cos + L_dist)     λ_vf adaptive at the encoder's last layer
    """

    def __init__(self, config: LossConfig, lpips: nn.Module | None, discriminator: PatchDiscriminator | None,
                 dino: DinoFeatures | None) -> None:
        super().__init__()
        if (config.lpips > 0) != (lpips is not None):
            raise ValueError("an LPIPS network is needed exactly when loss.lpips > 0")
        if (config.gan.weight > 0) != (discriminator is not None):
            raise ValueError("a discriminator is needed exactly when loss.gan.weight > 0")
        if (config.vf.weight > 0) != (dino is not None):
            raise ValueError("DINOv2 features are needed exactly when loss.vf.weight > 0")
        self.config = config
        self.lpips = lpips
        self.discriminator = discriminator
        self.dino = dino

    def gan_active(self, step: int) -> bool:
        return self.discriminator is not None and step >= self.config.gan.start_step

    def log_names(self) -> list[str]:
        """The keys of the logging dict, the same at every step of a run."""
        names = ["loss", "l1", "lpips", "quantizer_loss"]
        if self.discriminator is not None:
            names += ["gan_generator", "gan_weight"]
        if self.dino is not None:
            names += ["vf_cos", "vf_distance", "vf_weight"]
        return names

    def forward(self, images: torch.Tensor, output: TokenizerOutput, projected_latent: torch.Tensor | None,
                step: int, decoder_last_layer: torch.Tensor, encoder_last_layer: torch.Tensor,
                ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        config = self.config
        reconstruction = output.reconstruction.float()
        zero = reconstruction.new_zeros(())
        l1 = (reconstruction - images).abs().mean()
        lpips = self.lpips(reconstruction, images).mean() if self.lpips is not None else zero
        reconstruction_loss = config.l1 * l1 + config.lpips * lpips
        total = reconstruction_loss + config.quantizer * output.quantizer.loss
        logs = {"l1": l1, "lpips": lpips, "quantizer_loss": output.quantizer.loss}
        if self.discriminator is not None:
            generator, weight = zero, zero
            if self.gan_active(step):
                with frozen(self.discriminator):
                    generator = hinge_generator_loss(self.discriminator(reconstruction))
                weight = (adaptive_weight(reconstruction_loss, generator, decoder_last_layer,
                                          config.gan.max_adaptive_weight)
                          if config.gan.adaptive else zero + 1.0)
                total = total + config.gan.weight * weight * generator
            logs |= {"gan_generator": generator, "gan_weight": weight}
        if self.dino is not None:
            if projected_latent is None:
                raise ValueError("the VF loss needs the projected latent")
            features = self.dino(images, tuple(projected_latent.shape[1:3]))
            cosine, distance = vf_alignment_losses(projected_latent, features, config.vf.margin_cos,
                                                   config.vf.margin_distance)
            weight = (adaptive_weight(reconstruction_loss, cosine + distance, encoder_last_layer,
                                      config.vf.max_adaptive_weight)
                      if config.vf.adaptive else zero + 1.0)
            total = total + config.vf.weight * weight * (cosine + distance)
            logs |= {"vf_cos": cosine, "vf_distance": distance, "vf_weight": weight}
        logs["loss"] = total
        return total, {name: value.detach().float() for name, value in logs.items()}


def discriminator_loss(discriminator: nn.Module, images: torch.Tensor, reconstruction: torch.Tensor,
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Hinge loss of the discriminator on real images and detached reconstructions, with logit means for logging."""
    logits_real = discriminator(images)
    logits_fake = discriminator(reconstruction.detach().float())
    loss = hinge_discriminator_loss(logits_real, logits_fake)
    return loss, {"gan_discriminator": loss.detach().float(), "logits_real": logits_real.detach().float().mean(),
                  "logits_fake": logits_fake.detach().float().mean()}
