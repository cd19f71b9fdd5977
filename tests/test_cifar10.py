"""CIFAR-10 from its official binary format, offline: small archives built in a temp folder.

The files follow the release byte for byte (1 label byte, then the red, green and blue
32 x 32 planes), only with fewer records. The download path is exercised against a server on
127.0.0.1, never the internet.
"""

import functools
import hashlib
import http.server
import io
import tarfile
import threading

import numpy as np
import pytest

from course_utils import data

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def make_records(n, seed):
    """(images (n, 32, 32, 3), labels (n,), raw bytes in the release's layout)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    planes = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # channel-major, as in the file
    raw = np.concatenate([labels[:, None].astype(np.uint8), planes], axis=1).tobytes()
    return images, labels, raw


def release_files(sizes=(3, 2, 4, 1, 2), test_size=5):
    files, train_images, train_labels = {}, [], []
    for i, n in enumerate(sizes, start=1):
        images, labels, raw = make_records(n, seed=i)
        files[f"data_batch_{i}.bin"] = raw
        train_images.append(images)
        train_labels.append(labels)
    test_images, test_labels, files["test_batch.bin"] = make_records(test_size, seed=99)
    files["batches.meta.txt"] = ("\n".join(CLASSES) + "\n\n").encode()
    expected = (
        np.concatenate(train_images),
        np.concatenate(train_labels),
        test_images,
        test_labels,
    )
    return files, expected


def write_archive(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def assert_matches(loaded, expected):
    x_train, y_train, x_test, y_test = expected
    np.testing.assert_array_equal(loaded.x_train, x_train)
    np.testing.assert_array_equal(loaded.y_train, y_train)
    np.testing.assert_array_equal(loaded.x_test, x_test)
    np.testing.assert_array_equal(loaded.y_test, y_test)
    assert loaded.x_train.dtype == np.uint8 and loaded.x_train.shape[1:] == (32, 32, 3)
    assert loaded.y_train.dtype == np.int64
    assert loaded.classes == CLASSES


def test_reads_the_archive_without_extracting(tmp_path):
    files, expected = release_files()
    write_archive(tmp_path / "cifar-10-binary.tar.gz", files)
    assert_matches(data.load_cifar10(tmp_path, verify=False), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cifar-10-binary.tar.gz"]


def test_reads_the_extracted_folder(tmp_path):
    files, expected = release_files()
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    assert_matches(data.load_cifar10(tmp_path), expected)


def test_pixel_layout_is_rows_columns_rgb(tmp_path):
    files, _ = release_files(sizes=(1, 1, 1, 1, 1), test_size=1)
    record = bytearray(3073)
    record[0] = 7
    record[1 + 0 * 1024 + 0] = 255  # red plane, row 0, column 0
    record[1 + 1 * 1024 + 32 * 2 + 5] = 9  # green plane, row 2, column 5
    record[1 + 2 * 1024 + 1023] = 4  # blue plane, row 31, column 31
    files["data_batch_1.bin"] = bytes(record)
    write_archive(tmp_path / "cifar-10-binary.tar.gz", files)
    image = data.load_cifar10(tmp_path, verify=False).x_train[0]
    assert image[0, 0, 0] == 255 and image[2, 5, 1] == 9 and image[31, 31, 2] == 4
    assert image.sum() == 255 + 9 + 4


def test_wrong_checksum_is_rejected(tmp_path):
    files, _ = release_files()
    write_archive(tmp_path / "cifar-10-binary.tar.gz", files)
    with pytest.raises(ValueError, match="does not have the published MD5 " + data.CIFAR10_MD5):
        data.load_cifar10(tmp_path)  # verify=True: a small archive is not the release


@pytest.mark.parametrize(
    "damage, match",
    [
        (
            lambda f: f.update({"data_batch_3.bin": f["data_batch_3.bin"][:-1]}),
            "not a whole number",
        ),
        (lambda f: f.update({"test_batch.bin": b""}), "not a whole number"),
        (
            lambda f: f.update({"data_batch_2.bin": b"\x0a" + f["data_batch_2.bin"][1:]}),
            "label byte 10",
        ),
        (
            lambda f: f.pop("data_batch_5.bin"),
            "no regular file cifar-10-batches-bin/data_batch_5.bin",
        ),
        (lambda f: f.update({"batches.meta.txt": b"cat\ndog\n"}), "10 class names"),
    ],
)
def test_damaged_releases_are_rejected(tmp_path, damage, match):
    files, _ = release_files()
    damage(files)
    write_archive(tmp_path / "cifar-10-binary.tar.gz", files)
    with pytest.raises(ValueError, match=match):
        data.load_cifar10(tmp_path, verify=False)


def test_truncated_archive_is_rejected(tmp_path):
    files, _ = release_files()
    archive = write_archive(tmp_path / "cifar-10-binary.tar.gz", files)
    archive.write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(ValueError, match="truncated or corrupted|not a readable"):
        data.load_cifar10(tmp_path, verify=False)


def test_missing_data_says_what_to_download_and_the_offline_alternative(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        data.load_cifar10(tmp_path / "nowhere")
    message = str(error.value)
    assert data.CIFAR10_URL in message and "cifar-10-binary.tar.gz" in message
    assert "download=True" in message and 'load_dataset("digits")' in message
    with pytest.raises(FileNotFoundError, match="CIFAR-10 is not in"):
        data.load_dataset("cifar10", root=tmp_path)


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/served; yields its base URL."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_verifies_the_checksum(server, tmp_path, monkeypatch):
    served, base = server
    files, expected = release_files()
    archive = write_archive(served / "cifar-10-binary.tar.gz", files)
    monkeypatch.setattr(data, "CIFAR10_URL", f"{base}/cifar-10-binary.tar.gz")
    root = tmp_path / "data"
    # the published checksum does not match this small archive: rejected, nothing kept
    with pytest.raises(ValueError, match="failed its checksum"):
        data.load_cifar10(root, download=True)
    assert not (root / "cifar-10-binary.tar.gz").exists()
    # with the archive's own MD5 the download is kept and read
    monkeypatch.setattr(data, "CIFAR10_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    assert_matches(data.load_cifar10(root, download=True), expected)
    assert (root / "cifar-10-binary.tar.gz").is_file()
    assert_matches(data.load_cifar10(root), expected)  # then offline, verified against the MD5


def test_download_without_network_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "CIFAR10_URL", "http://127.0.0.1:9/cifar-10-binary.tar.gz")
    with pytest.raises(FileNotFoundError, match="could not download CIFAR-10.*digits"):
        data.load_cifar10(tmp_path, download=True)


def test_load_dataset_flattens_cifar_and_subsets(tmp_path):
    files, (x_train, y_train, x_test, y_test) = release_files()
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    ds = data.load_dataset("cifar10", root=tmp_path)
    assert ds.name == "cifar10" and ds.classes == CLASSES and ds.num_classes == 10
    assert ds.x_train.shape == (12, 3072) and ds.x_train.dtype == np.float64
    np.testing.assert_allclose(ds.x_train, x_train.reshape(12, -1) / 255.0)
    np.testing.assert_array_equal(ds.y_val, y_test)
    small = data.load_dataset("cifar10", root=tmp_path, max_train=5, max_val=2, seed=3)
    assert small.x_train.shape == (5, 3072) and small.y_val.shape == (2,)
    with pytest.raises(ValueError, match="MiB of float64 features"):
        data.load_dataset("cifar10", root=tmp_path, max_train=50_000)


def test_load_dataset_digits_is_the_default():
    ds = data.load_dataset()
    digits = data.load_digits()
    assert ds.name == "digits" and ds.num_classes == 10
    np.testing.assert_array_equal(ds.x_train, digits.x_train)
    np.testing.assert_array_equal(ds.y_val, digits.y_val)
    assert data.load_dataset(max_train=100).x_train.shape == (100, 64)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "mnist"}, "name must be one of"),
        ({"max_train": 0}, "max_train"),
        ({"max_val": 1.5}, "max_val"),
        ({"seed": -1}, "seed"),
    ],
)
def test_load_dataset_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.load_dataset(**kwargs)
