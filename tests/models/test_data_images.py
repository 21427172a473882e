"""Image files, image-folder datasets (seeded, resumable crops), Kodak and corrupt files."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from models.data import (
    ImageFolderDataset, ResumableSampler, SampleKey, UnreadableImageError, center_crop, epoch_order,
    kodak_dataset, list_image_files, load_image, save_image,
)
from tests.shared_data import shared_data


def write_images(folder, names, size=(40, 56), seed=0):
    generator = torch.Generator().manual_seed(seed)
    images = {}
    for name in names:
        image = torch.randint(0, 256, (3, *size), generator=generator).float() / 255
        save_image(image, folder / name)
        images[name] = image
    return images


def test_images_round_trip_exactly_and_folders_are_listed_recursively(tmp_path):
    written = write_images(tmp_path, ["b.png", "sub/a.PNG", "sub/deeper/c.png"])
    (tmp_path / "notes.txt").write_text("not an image")
    files = list_image_files(tmp_path)
    assert [path.relative_to(tmp_path).as_posix() for path in files] == ["b.png", "sub/a.PNG", "sub/deeper/c.png"]
    assert [path.name for path in list_image_files(tmp_path, recursive=False)] == ["b.png"]
    for name, image in written.items():
        assert torch.equal(load_image(tmp_path / name), image)
    assert load_image(tmp_path / "b.png", mode="L").shape == (1, 40, 56)


def test_an_empty_or_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no PNG/JPEG images found"):
        list_image_files(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ImageFolderDataset(tmp_path / "absent", train=False)


def test_a_corrupt_file_is_named_or_skipped_with_a_warning(tmp_path):
    write_images(tmp_path, ["a.png", "c.png"])
    (tmp_path / "b.png").write_bytes(b"\x89PNG garbage bytes, not an image" * 10)
    with pytest.raises(UnreadableImageError, match=r"b\.png.*skip_unreadable=True"):
        ImageFolderDataset(tmp_path, train=False, crop_size=32)[1]
    loader = DataLoader(ImageFolderDataset(tmp_path, train=False, crop_size=32), batch_size=3, num_workers=1)
    with pytest.raises(UnreadableImageError, match=r"cannot read image file .*b\.png"):
        next(iter(loader))
    skipping = ImageFolderDataset(tmp_path, train=False, crop_size=32, skip_unreadable=True)
    with pytest.warns(UserWarning, match=r"skipping unreadable image.*b\.png"):
        replacement = skipping[1]
    assert torch.equal(replacement, skipping[2])


def test_training_crops_are_a_function_of_seed_epoch_and_index(tmp_path):
    write_images(tmp_path, [f"{n}.png" for n in range(3)], size=(48, 64))
    dataset = ImageFolderDataset(tmp_path, train=True, crop_size=24, seed=5)
    crop = dataset[SampleKey(epoch=2, index=1)]
    assert crop.shape == (3, 24, 24)
    assert torch.equal(crop, ImageFolderDataset(tmp_path, train=True, crop_size=24, seed=5)[SampleKey(2, 1)])
    other_epochs = [dataset[SampleKey(epoch, 1)] for epoch in range(8)]
    assert not all(torch.equal(crop, other) for other in other_epochs)
    assert torch.equal(dataset[1], dataset[SampleKey(0, 1)])
    small = ImageFolderDataset(tmp_path, train=True, crop_size=96)  # scaled up to fit the crop
    assert small[0].shape == (3, 96, 96)


def test_evaluation_crops_are_central(tmp_path):
    written = write_images(tmp_path, ["x.png"], size=(40, 56))
    assert torch.equal(ImageFolderDataset(tmp_path, train=False, crop_size=32)[0], written["x.png"][:, 4:36, 12:44])
    assert torch.equal(ImageFolderDataset(tmp_path, train=False, crop_size=None)[0], written["x.png"])
    resized = ImageFolderDataset(tmp_path, train=False, crop_size=None, resize=20)[0]
    assert resized.shape == (3, 20, 28)
    with pytest.raises(ValueError, match="crop size 41 does not fit"):
        center_crop(written["x.png"], 41)


@settings(max_examples=40, deadline=None)
@given(num_samples=st.integers(1, 9), seed=st.integers(0, 2**16), start=st.integers(0, 30), consumed=st.integers(0, 40))
def test_a_resumed_sampler_continues_the_uninterrupted_stream(num_samples, seed, start, consumed):
    def take(sampler, count):
        stream = iter(sampler)
        return [next(stream) for _ in range(count)]

    reference = take(ResumableSampler(num_samples, seed), start + consumed + 12)
    first = ResumableSampler(num_samples, **ResumableSampler(num_samples, seed).state_after(start))
    assert take(first, consumed) == reference[start : start + consumed]
    resumed = ResumableSampler(num_samples, **first.state_after(consumed))
    assert take(resumed, 12) == reference[start + consumed : start + consumed + 12]
    epoch_keys = reference[:num_samples]
    assert sorted(key.index for key in epoch_keys) == list(range(num_samples))
    assert [key.index for key in epoch_keys] == epoch_order(num_samples, seed, 0).tolist()


def test_resumed_loader_batches_equal_the_uninterrupted_ones(tmp_path):
    write_images(tmp_path, [f"{n}.png" for n in range(5)], size=(40, 40))
    dataset = ImageFolderDataset(tmp_path, train=True, crop_size=16, seed=3)
    sampler = ResumableSampler(len(dataset), seed=3)
    uninterrupted = DataLoader(dataset, batch_size=2, sampler=sampler, num_workers=2)
    batches = [batch for _, batch in zip(range(6), uninterrupted)]
    resumed = DataLoader(dataset, batch_size=2, sampler=ResumableSampler(len(dataset), **sampler.state_after(6)))
    for expected, batch in zip(batches[3:], resumed):
        assert torch.equal(expected, batch)


def test_sampler_rejects_a_bad_state():
    with pytest.raises(ValueError, match="invalid sampler state"):
        ResumableSampler(4, seed=0, epoch=0, position=4)
    with pytest.raises(ValueError, match="num_samples must be positive"):
        ResumableSampler(0)


def test_kodak_at_full_resolution_and_as_center_crops(tmp_path):
    full = kodak_dataset(shared_data("kodak"))
    assert len(full) == 24 and full.names[0] == "kodim01.png" and full.names[-1] == "kodim24.png"
    shapes = [tuple(full[index].shape) for index in range(24)]
    assert set(shapes) == {(3, 512, 768), (3, 768, 512)}
    crops = kodak_dataset(shared_data("kodak"), crop_size=256)
    assert crops[3].shape == (3, 256, 256)
    assert torch.equal(crops[3], center_crop(full[3], 256))
    with pytest.raises(FileNotFoundError, match="lacks 24 of kodim01-24.png"):
        kodak_dataset(tmp_path)
