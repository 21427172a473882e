"""`slq train-fmnist-classifier` on a small synthetic Fashion-MNIST folder: weights, sha256 file, errors."""
from experiments.cli import main
from models.metrics.fmnist_classifier import load_classifier, sha256_sidecar
from tests.fmnist_synthetic import write_synthetic_fashion_mnist


def test_command_writes_loadable_weights_with_their_sha256_and_reports_accuracy(tmp_path, capsys):
    data = write_synthetic_fashion_mnist(tmp_path / "data", train_count=100, test_count=20)
    out = tmp_path / "weights" / "classifier.safetensors"
    argv = ["train-fmnist-classifier", "--data", str(data), "--out", str(out), "--epochs", "1", "--seed", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    _, digest = load_classifier(out)
    assert "test accuracy" in printed and "(20 images)" in printed and f"sha256 {digest}" in printed
    assert sha256_sidecar(out).read_text() == f"{digest}  classifier.safetensors\n"
    first_bytes = out.read_bytes()
    assert main(argv) == 0 and out.read_bytes() == first_bytes


def test_bad_arguments_give_a_one_line_error(tmp_path, capsys):
    data = write_synthetic_fashion_mnist(tmp_path / "data", train_count=20, test_count=10)
    cases = [
        (["--data", str(tmp_path / "absent"), "--out", str(tmp_path / "c.safetensors")], "not found"),
        (["--data", str(data), "--out", str(tmp_path / "c.pt")], "must end in .safetensors"),
        (["--data", str(data), "--out", str(tmp_path / "c.safetensors"), "--epochs", "0"], "epochs"),
    ]
    for arguments, message in cases:
        assert main(["train-fmnist-classifier", *arguments]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and message in error
