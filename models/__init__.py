"""Torch models and what they are trained and measured with: tokenizer, generator, data sets, metrics, weights I/O.

Subpackages and modules (imports: `lattices`, `quantizers`, torch and the kept libraries; never `experiments`):
    models.tokenizer   the ViT autoencoder `Tokenizer` around any `quantizers.build` quantizer, its
                       PatchGAN discriminator and training losses (L1 + LPIPS + quantizer + GAN, VF/DINOv2)
    models.generator   the class-conditional next-scale (VAR) generator, work in progress: transformer,
                       heads, fused cross-entropy, sampling, optimizers
    models.data        image files and folders, crops, decoded-once training crops, seeded resumable
                       samplers with per-rank batches, Kodak, Fashion-MNIST
    models.metrics     PSNR, SSIM/MS-SSIM, LPIPS, VGG16/Inception features, Fréchet distance, IS,
                       precision/recall, bits per pixel
    models.weights_io  the strict safetensors loader (missing, unexpected, misshaped tensors named) and atomic save
Training loops live in `experiments.training`, not here.
"""
