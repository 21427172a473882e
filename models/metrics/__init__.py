"""Image quality and distribution metrics: PSNR, SSIM, MS-SSIM, LPIPS, Fréchet distances, bitrates, FD-FMNIST."""
from models.metrics.bitrate import bits_per_pixel_entropy, bits_per_pixel_fixed, empirical_entropy_bits
from models.metrics.distribution_metrics import DistributionMetrics
from models.metrics.fmnist_classifier import FashionMNISTClassifier, classifier_input, load_classifier
from models.metrics.fmnist_generation import evaluate_generation
from models.metrics.frechet import frechet_distance, frechet_distance_from_statistics, gaussian_statistics
from models.metrics.image_metrics import ImageMetrics
from models.metrics.inception import FIDInceptionV3, load_fid_inception
from models.metrics.inception_score import inception_score
from models.metrics.lpips_metric import LpipsDistance
from models.metrics.precision_recall import precision_recall
from models.metrics.psnr import psnr
from models.metrics.ssim import ms_ssim, ms_ssim_min_side, ssim
from models.metrics.vgg_features import VGG16Pool5, vgg16_features

__all__ = [
    "DistributionMetrics", "FIDInceptionV3", "FashionMNISTClassifier", "ImageMetrics", "LpipsDistance",
    "VGG16Pool5", "bits_per_pixel_entropy", "bits_per_pixel_fixed", "classifier_input", "empirical_entropy_bits",
    "evaluate_generation", "frechet_distance", "frechet_distance_from_statistics", "gaussian_statistics",
    "inception_score", "load_classifier", "load_fid_inception", "ms_ssim", "ms_ssim_min_side", "precision_recall",
    "psnr", "ssim", "vgg16_features",
]
