"""The course's data, offline: the one place notebooks get data from.

- :func:`load_digits`: scikit-learn's handwritten digits (1,797 images of 8 x 8 pixels,
  10 classes), as float arrays with a fixed, stratified train/validation split.
- :func:`load_sample_photos`: scikit-learn's two bundled colour photos (china, flower),
  427 x 640 x 3, uint8.
- :func:`load_cifar10`: the seed's data set, CIFAR-10 (Krizhevsky, 2009), read from its
  official *binary* release (``cifar-10-binary.tar.gz``: records of 1 label byte + 3,072 pixel
  bytes). No pickle is ever loaded. Offline by default; ``download=True`` fetches the archive
  with :mod:`pooch` and verifies the published MD5 before anything is read.
- :func:`load_dataset`: the one line a notebook uses to choose its data
  (``"digits"``, offline, the default; or ``"cifar10"``), as flat features for an MLP.

Digits ship inside this package (``data_files/digits.npz``: scikit-learn's copy of the UCI
set, as uint8, 45 kB; a test checks it equals scikit-learn's), split by
:func:`course_utils.splitting.stratified_split`, which gives scikit-learn's
``train_test_split`` indices without importing scikit-learn (about 1.3 s). The photos ship
inside the scikit-learn wheel. No download, ever.
"""

from __future__ import annotations

import hashlib
import numbers
import os
import tarfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from course_utils.splitting import stratified_split
from course_utils.validation import MAX_ELEMENTS, check_array, check_int

__all__ = [
    "DataNotFoundError",
    "Digits",
    "N_DIGITS_TRAIN",
    "load_digits",
    "check_digits",
    "load_sample_photos",
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "CIFAR10",
    "load_cifar10",
    "Dataset",
    "DATASETS",
    "MAX_FEATURE_BYTES",
    "load_dataset",
]

#: Training rows of :func:`load_digits` with its default split (75% of 1797 images).
N_DIGITS_TRAIN = 1347


@dataclass(frozen=True)
class Digits:
    """The digits set, split once.

    Attributes
    ----------
    x_train, x_val : ndarray, shape (N, 64), float64
        Pixel intensities scaled to [0, 1] (the raw values are 0..16).
    y_train, y_val : ndarray, shape (N,), int64
        Class labels 0..9.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @property
    def num_classes(self) -> int:
        return 10


def load_digits(validation: float = 0.25, seed: int = 0) -> Digits:
    """The digits (scikit-learn's copy of the UCI set) as float64 in [0, 1], split into
    training and validation data exactly as ``sklearn.model_selection.train_test_split(x, y,
    test_size=validation, random_state=seed, stratify=y)`` splits them.

    Parameters
    ----------
    validation : float
        Share of the examples held out for validation, strictly between 0 and 1. The split
        is stratified (every class in the same proportion on both sides).
    seed : int
        Fixes the split.

    Returns
    -------
    Digits
    """
    if (
        isinstance(validation, bool)
        or not isinstance(validation, numbers.Real)
        or not 0 < validation < 1
    ):
        raise ValueError(f"validation must be a share strictly between 0 and 1; got {validation!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    with (resources.files("course_utils") / "data_files" / "digits.npz").open("rb") as file:
        with np.load(file, allow_pickle=False) as stored:
            x = stored["images"].astype(np.float64) / 16.0
            y = stored["labels"].astype(np.int64)
    train, val = stratified_split(y, validation, int(seed))
    return Digits(x[train], y[train], x[val], y[val])


def check_digits(data=None, max_rows: int = N_DIGITS_TRAIN):
    """``data`` if it holds the four splits as :func:`load_digits` returns them (float
    ``x_train (N, D)`` with at most ``max_rows`` rows, ``y_train (N,)``, ``x_val (M, D)``,
    ``y_val (M,)``), or ``load_digits()`` when it is ``None``; else ``ValueError``."""
    max_rows = check_int("max_rows", max_rows, 1, MAX_ELEMENTS)
    if data is None:
        return load_digits()
    for attr in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(data, attr):
            raise ValueError(
                f"data must have x_train, y_train, x_val, y_val (as load_digits "
                f"returns); it has no {attr!r}"
            )
    x = check_array("data.x_train", data.x_train, ndim=2, limit=max_rows * 64)
    if len(x) > max_rows:
        raise ValueError(f"data.x_train must have at most {max_rows} rows; got {len(x)}")
    check_array("data.y_train", data.y_train, shape=(len(x),))
    x_val = check_array("data.x_val", data.x_val, shape=(None, x.shape[1]), limit=MAX_ELEMENTS)
    check_array("data.y_val", data.y_val, shape=(len(x_val),))
    return data


def load_sample_photos() -> dict:
    """scikit-learn's bundled photos by name: ``{"china": ..., "flower": ...}``.

    The two JPEG files ship inside the scikit-learn wheel; they are found there without
    importing scikit-learn (about 1.3 s) and decoded with Pillow, giving the pixels
    ``sklearn.datasets.load_sample_images()`` gives (a unit test compares them).

    Returns
    -------
    dict of str -> ndarray, shape (427, 640, 3), uint8
        Fresh, writable arrays on every call.
    """
    import importlib.util

    from PIL import Image

    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("load_sample_photos needs scikit-learn installed (its photos)")
    folder = Path(spec.submodule_search_locations[0]) / "datasets" / "images"
    photos = {}
    for name in ("china", "flower"):
        with Image.open(folder / f"{name}.jpg") as image:
            photos[name] = np.array(image.convert("RGB"), dtype=np.uint8)
    return photos


# --- CIFAR-10, binary release ------------------------------------------------------------

#: The official binary release and its published MD5 (https://www.cs.toronto.edu/~kriz/cifar.html).
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
_ARCHIVE = "cifar-10-binary.tar.gz"
_FOLDER = "cifar-10-batches-bin"
_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_TEST_FILE = "test_batch.bin"
_META_FILE = "batches.meta.txt"
_RECORD = 1 + 32 * 32 * 3  # label byte + 1024 red, 1024 green, 1024 blue bytes


@dataclass(frozen=True)
class CIFAR10:
    """CIFAR-10 as arrays.

    Attributes
    ----------
    x_train, x_test : ndarray, shape (N, 32, 32, 3), uint8
        Images, rows x columns x RGB (the file stores each channel as a 32 x 32 plane).
    y_train, y_test : ndarray, shape (N,), int64
        Labels 0..9.
    classes : tuple of str
        The ten class names, from ``batches.meta.txt``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple


def _missing_message(root: Path) -> str:
    return (
        f"CIFAR-10 is not in {root}. Download the binary version ({CIFAR10_URL}, 162 MB, "
        f"MD5 {CIFAR10_MD5}) and put {_ARCHIVE} (or the extracted folder {_FOLDER}/) in "
        f"{root}, or call load_cifar10({str(root)!r}, download=True) once online. "
        'Offline, use the bundled digits instead: load_dataset("digits").'
    )


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse_records(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Records of 1 label byte + 3072 pixel bytes -> images (N, 32, 32, 3) uint8, labels (N,)."""
    if len(raw) == 0 or len(raw) % _RECORD:
        raise ValueError(
            f"{name} has {len(raw):,} bytes: not a whole number of {_RECORD}-byte "
            "CIFAR-10 records (1 label byte + 3,072 pixel bytes); the file is "
            "truncated or not from the binary release"
        )
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise ValueError(f"{name} has a label byte {labels.max()}; CIFAR-10 labels are 0..9")
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return images, labels


def _parse_classes(text: str) -> tuple:
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != 10:
        raise ValueError(f"{_META_FILE} must list the 10 class names; found {len(names)}")
    return names


class DataNotFoundError(FileNotFoundError, ValueError):
    """A data set is not where it was asked for: a ``FileNotFoundError`` that is also the
    ``ValueError`` every bad argument raises (``root`` named a folder without the data)."""


def load_cifar10(root, download: bool = False, verify: bool = True) -> CIFAR10:
    """CIFAR-10 from its official binary release in ``root``.

    Parameters
    ----------
    root : str or path
        A folder holding ``cifar-10-binary.tar.gz`` or its extracted folder
        ``cifar-10-batches-bin/`` (``data_batch_1.bin`` ... ``data_batch_5.bin``,
        ``test_batch.bin``, ``batches.meta.txt``). The extracted folder is preferred.
    download : bool
        Fetch the archive into ``root`` first (through :mod:`pooch`, which verifies the
        published MD5 before the file is kept) when neither form is present.
    verify : bool
        Check an archive's MD5 against the published one before reading it. Files of any whole
        number of 3,073-byte records are read, so a test can build a small archive (and pass
        ``verify=False``).

    Returns
    -------
    CIFAR10

    Raises
    ------
    DataNotFoundError (a FileNotFoundError and a ValueError)
        Neither the folder nor the archive is in ``root`` (and ``download`` is False): the
        message says what to download, where to put it, and the offline alternative.
    ValueError
        A wrong checksum, a truncated record, a label above 9, a missing member.
    """
    if not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root must be a folder path; got {type(root).__name__}")
    for name, flag in (("download", download), ("verify", verify)):
        if not isinstance(flag, bool):
            raise ValueError(f"{name} must be True or False; got {flag!r}")
    root = Path(root)
    folder, archive = root / _FOLDER, root / _ARCHIVE
    if not folder.is_dir() and not archive.is_file():
        if not download:
            raise DataNotFoundError(_missing_message(root))
        import pooch

        root.mkdir(parents=True, exist_ok=True)
        try:
            pooch.retrieve(
                CIFAR10_URL,
                known_hash=f"md5:{CIFAR10_MD5}",
                fname=_ARCHIVE,
                path=root,
                progressbar=False,
            )
        except ValueError as error:  # pooch: hash mismatch; the file is not kept
            raise ValueError(
                f"the downloaded CIFAR-10 archive failed its checksum: {error}"
            ) from None
        except Exception as error:  # no network, HTTP errors
            raise DataNotFoundError(
                f"could not download CIFAR-10 ({error}). " + _missing_message(root)
            ) from None
        verify = False  # pooch has just checked the MD5
    if folder.is_dir():

        def read(name: str) -> bytes:
            path = folder / name
            if not path.is_file():
                raise ValueError(f"{folder} has no {name}: the extracted release is incomplete")
            return path.read_bytes()
    else:
        if verify and _md5(archive) != CIFAR10_MD5:
            raise ValueError(
                f"{archive} does not have the published MD5 {CIFAR10_MD5}: the "
                "download is corrupted or incomplete; delete it and download again"
            )
        try:
            tar = tarfile.open(archive, "r:gz")
        except (tarfile.TarError, OSError) as error:
            raise ValueError(f"{archive} is not a readable .tar.gz ({error})") from None
        with tar:
            members = {}
            for name in (*_TRAIN_FILES, _TEST_FILE, _META_FILE):
                try:
                    member = tar.getmember(f"{_FOLDER}/{name}")
                    members[name] = tar.extractfile(
                        member
                    ).read()  # read in memory, never extracted
                except (KeyError, AttributeError):
                    raise ValueError(f"{archive} has no regular file {_FOLDER}/{name}") from None
                except (tarfile.TarError, OSError, EOFError) as error:
                    raise ValueError(f"{archive} is truncated or corrupted ({error})") from None

        def read(name: str) -> bytes:
            return members[name]

    parts = [_parse_records(read(name), name) for name in _TRAIN_FILES]
    x_test, y_test = _parse_records(read(_TEST_FILE), _TEST_FILE)
    classes = _parse_classes(read(_META_FILE).decode("ascii", errors="replace"))
    return CIFAR10(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        x_test,
        y_test,
        classes,
    )


# --- the notebooks' data chooser ----------------------------------------------------------

#: Data sets :func:`load_dataset` knows.
DATASETS = ("digits", "cifar10")
#: At most this many bytes of float64 features (train + validation) from load_dataset.
MAX_FEATURE_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Dataset:
    """A classification set as flat features, ready for an MLP.

    Attributes
    ----------
    x_train, x_val : ndarray, shape (N, D), float64 in [0, 1]
    y_train, y_val : ndarray, shape (N,), int64
    classes : tuple of str
    name : str
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: tuple
    name: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _subset(x, y, limit, rng):
    if limit is None or limit >= len(x):
        return x, y
    keep = np.sort(rng.permutation(len(x))[:limit])
    return x[keep], y[keep]


def load_dataset(
    name: str = "digits",
    root="data",
    max_train: int | None = None,
    max_val: int | None = None,
    seed: int = 0,
) -> Dataset:
    """The data set a notebook trains on, chosen by name.

    Parameters
    ----------
    name : {"digits", "cifar10"}
        ``"digits"``: 8 x 8 digits, 64 features, offline (:func:`load_digits`, a stratified
        75/25 split). ``"cifar10"``: 32 x 32 x 3 = 3,072 features, from :func:`load_cifar10`
        in ``root``; the validation data is the official test batch.
    root : str or path
        Where CIFAR-10 lives (ignored for the digits).
    max_train, max_val : int or None
        Keep at most this many examples (a seeded random subset, in file order). For CIFAR-10
        the defaults are 10,000 and 2,000 (the full set as float64 is 1.4 GB).
    seed : int
        Fixes the digits split and the subsets.

    Returns
    -------
    Dataset
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {DATASETS}; got {name!r}")
    for label, value in (("max_train", max_train), ("max_val", max_val)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1
        ):
            raise ValueError(f"{label} must be None or an integer >= 1; got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    rng = np.random.default_rng(seed)
    if name == "digits":
        d = load_digits(seed=seed)
        x_train, y_train = _subset(d.x_train, d.y_train, max_train, rng)
        x_val, y_val = _subset(d.x_val, d.y_val, max_val, rng)
        return Dataset(x_train, y_train, x_val, y_val, tuple(str(i) for i in range(10)), "digits")
    max_train = 10_000 if max_train is None else max_train
    max_val = 2_000 if max_val is None else max_val
    wanted = (min(max_train, 50_000) + min(max_val, 10_000)) * 3072 * 8
    if wanted > MAX_FEATURE_BYTES:
        raise ValueError(
            f"max_train={max_train} and max_val={max_val} need {wanted / 2**20:.0f} "
            f"MiB of float64 features; at most {MAX_FEATURE_BYTES // 2**20} MiB are "
            "allowed (a 2 GB kernel): lower them"
        )
    c = load_cifar10(root)
    x_train, y_train = _subset(c.x_train, c.y_train, max_train, rng)
    x_val, y_val = _subset(c.x_test, c.y_test, max_val, rng)

    def flat(x):
        return x.reshape(len(x), -1).astype(np.float64) / 255.0

    return Dataset(flat(x_train), y_train, flat(x_val), y_val, c.classes, "cifar10")
