"""Image datasets: image folders with resumable seeded crops, Kodak, Fashion-MNIST."""
from models.data.crops import center_crop, random_crop_flip, resize_shorter_side, trim_to_patch
from models.data.fashion_mnist import (FASHION_MNIST_CLASSES, FashionMNIST, FashionMNIST32, load_fashion_mnist, read_idx,
                                       to_rgb32)
from models.data.image_files import IMAGE_SUFFIXES, UnreadableImageError, list_image_files, load_image, save_image
from models.data.image_folder import ImageFolderDataset
from models.data.kodak import KODAK_FILES, kodak_dataset
from models.data.sampler import ResumableSampler, SampleKey, derived_generator, epoch_order

__all__ = [
    "FASHION_MNIST_CLASSES", "FashionMNIST", "FashionMNIST32", "IMAGE_SUFFIXES", "ImageFolderDataset", "KODAK_FILES",
    "ResumableSampler", "SampleKey", "UnreadableImageError", "center_crop", "derived_generator",
    "epoch_order", "kodak_dataset", "list_image_files", "load_fashion_mnist", "load_image",
    "random_crop_flip", "read_idx", "resize_shorter_side", "save_image", "to_rgb32", "trim_to_patch",
]
