"""The Chinese edition (tools/i18n.py, make zh): in sync, output-identical, nothing lost.

- notebooks/zh/ and i18n/zh/*.po are what `make zh` writes from the English notebooks now, and
  running it again changes nothing;
- every code cell of a zh notebook, with its stored outputs, is the English one: every claim,
  test and exercise of the English edition holds for the Chinese one without a second run;
- every formula, inline code span, link target and number of an English markdown cell is in
  its Chinese cell; the Chinese headings keep the Chinese half of "English · 中文";
- a translated chapter's catalogue has no untranslated or fuzzy entry, and its text uses the
  one term of i18n/zh/terms.csv for each concept (built from the ten glossaries).

NOT_YET_TRANSLATED is the one list of chapters whose catalogue is still incomplete: their
completeness test is an expected failure, which turns into a failure (strict xfail) as soon as
the catalogue is complete, so the list cannot go stale. Remove a chapter once it is done.
"""

import csv
import re
import shutil
import sys
from functools import cache
from pathlib import Path

import nbformat
import pytest

# polib is a developer pin (requirements-dev.txt); make test-oldest's venv leaves it out, and
# these checks compare files, which does not depend on the library versions under test there.
polib = pytest.importorskip("polib", reason="make zh's polib is not installed")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import i18n, launch_links  # noqa: E402

NOT_YET_TRANSLATED: list = []

ENGLISH = i18n.english_notebooks()
CHAPTERS = [p.name[:2] for p in ENGLISH]
TERMS = ROOT / "i18n" / i18n.LANG / "terms.csv"
GLOSSARY_HEADING = "## Glossary · 术语表"


def test_the_list_names_real_chapters():
    assert set(NOT_YET_TRANSLATED) <= set(CHAPTERS), NOT_YET_TRANSLATED
    assert len(ENGLISH) == 10


@cache
def english(chapter: str):
    return nbformat.read(ENGLISH[CHAPTERS.index(chapter)], as_version=4)


@cache
def chinese(chapter: str):
    return nbformat.read(i18n.zh_notebook_path(ENGLISH[CHAPTERS.index(chapter)]), as_version=4)


@cache
def catalogue(chapter: str) -> polib.POFile:
    return polib.pofile(str(i18n.catalogue_path(ENGLISH[CHAPTERS.index(chapter)])))


def _flat(text: str) -> str:
    """Compared without spaces, case or quote style: 死亡ReLU = 死亡 ReLU, "死亡" = “死亡”."""
    return re.sub(r"[\"“”「」]", '"', re.sub(r"\s+", "", text)).lower()


# --- in sync ---------------------------------------------------------------------------------


def test_make_zh_is_up_to_date():
    stale = [str(p.relative_to(ROOT)) for p in i18n.run(check=True)]
    assert not stale, f"run `make zh` (tools/i18n.py): out of date: {stale}"
    zh_dir = ROOT / "notebooks" / i18n.LANG
    assert sorted(p.name for p in zh_dir.glob("*.ipynb")) == [p.name for p in ENGLISH]
    po_dir = ROOT / "i18n" / i18n.LANG
    assert sorted(p.stem for p in po_dir.glob("*.po")) == [p.stem for p in ENGLISH]


def _copy_sources(tmp_path: Path, notebooks: list[Path]) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "i18n" / i18n.LANG).mkdir(parents=True)
    for path in notebooks:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
        shutil.copy(i18n.catalogue_path(path), i18n.catalogue_path(path, tmp_path))
    shutil.copy(ROOT / i18n.README_ZH, tmp_path / i18n.README_ZH)
    return tmp_path


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_make_zh_twice_changes_nothing(tmp_path):
    root = _copy_sources(tmp_path, ENGLISH)
    (root / "i18n" / i18n.LANG / ENGLISH[1].with_suffix(".po").name).unlink()  # a new chapter
    i18n.run(root)
    first = _snapshot(root)
    assert i18n.run(root) == []
    assert _snapshot(root) == first


def test_a_changed_english_paragraph_shows_english_until_retranslated(tmp_path):
    # Chapter 01 is translated; the copy is brought up to date first, so the test holds
    # while the committed catalogue waits for a retranslation too.
    root = _copy_sources(tmp_path, ENGLISH[:1])
    path = root / "notebooks" / ENGLISH[0].name
    i18n.run(root)
    notebook = nbformat.read(path, as_version=4)
    po = polib.pofile(str(i18n.catalogue_path(path, root)))
    before = {(e.msgctxt, e.msgid) for e in po if not i18n.current(e)}
    cell_of = {c.id: c for c in notebook.cells}

    def standalone(entry):  # a plain paragraph: starts its cell or follows a blank line
        source = cell_of[i18n._cell_of(entry)].source
        at = source.find(entry.msgid)
        return entry.msgid[0].isalpha() and (at == 0 or source[:at].endswith("\n\n"))

    plain = [e for e in po if i18n.current(e) and standalone(e)]
    changed, moved = plain[1], next(e for e in plain[2:] if e.msgctxt.endswith(":0"))
    cell = cell_of[i18n._cell_of(changed)]
    cell.source = cell.source.replace(changed.msgid, changed.msgid + " One more sentence.")
    other = cell_of[i18n._cell_of(moved)]
    other.source = other.source.replace(moved.msgid, "A new first paragraph.\n\n" + moved.msgid)
    nbformat.write(notebook, path)

    i18n.run(root)
    new_po = polib.pofile(str(i18n.catalogue_path(path, root)))
    news = [e for e in new_po if not i18n.current(e) and (e.msgctxt, e.msgid) not in before]
    assert [(e.msgctxt, e.previous_msgid, e.msgstr) for e in news if e.msgstr] == [
        (changed.msgctxt, changed.msgid, changed.msgstr)
    ]
    assert "fuzzy" in new_po.find(changed.msgid + " One more sentence.", by="msgid").flags
    assert [e.msgid for e in news if not e.msgstr] == ["A new first paragraph."]
    assert any(e.msgid == moved.msgid and e.msgstr == moved.msgstr for e in new_po if e.msgstr)
    assert "fuzzy" not in new_po.find(moved.msgid, by="msgid").flags
    zh = nbformat.read(i18n.zh_notebook_path(path, root), as_version=4)
    zh_cells = {c.id: c.source for c in zh.cells}
    assert changed.msgid + " One more sentence." in zh_cells[cell.id]  # English, not stale
    assert changed.msgstr not in zh_cells[cell.id]
    assert moved.msgstr in zh_cells[other.id]
    assert not i18n.complete(new_po)
    assert i18n.run(root) == []


# --- code and outputs ------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_code_cells_and_outputs_are_the_english_ones(chapter):
    en, zh = english(chapter), chinese(chapter)
    assert (zh.nbformat, zh.nbformat_minor, zh.metadata) == (
        en.nbformat,
        en.nbformat_minor,
        en.metadata,
    )
    assert [(c.id, c.cell_type) for c in zh.cells] == [(c.id, c.cell_type) for c in en.cells]
    for e, z in zip(en.cells, zh.cells, strict=True):
        assert z.metadata == e.metadata, e.id
        if e.cell_type == "code":
            assert z.source == e.source, f"code cell {e.id} differs"
            assert z.outputs == e.outputs, f"outputs of cell {e.id} differ"
            assert z.execution_count == e.execution_count, e.id
        else:
            assert z.get("attachments") == e.get("attachments"), e.id


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_student_versions_grade_alike(chapter):
    """make assignments gives the zh edition the English student version's code cells, with
    the same nbgrader metadata (grade ids, points, checksums): one autograder grades both."""
    pytest.importorskip("nbgrader")
    from tools.make_student_versions import student_version

    en_path = next(p for p in ENGLISH if p.name.startswith(chapter))
    en, zh = student_version(en_path), student_version(i18n.zh_notebook_path(en_path))
    assert [c.id for c in zh.cells] == [c.id for c in en.cells]
    graded = 0
    for e, z in zip(en.cells, zh.cells, strict=True):
        assert z.metadata.get("nbgrader") == e.metadata.get("nbgrader"), e.id
        if e.cell_type == "code":
            assert z.source == e.source, f"student code cell {e.id} differs"
        graded += bool(e.metadata.get("nbgrader", {}).get("grade"))
    assert graded, f"chapter {chapter} has no graded cell"


def test_make_assignments_writes_both_editions(tmp_path):
    from tools import make_student_versions

    en_path = ENGLISH[0]
    make_student_versions.main(
        [str(en_path), str(i18n.zh_notebook_path(en_path)), "--output-dir", str(tmp_path)]
    )
    assert (tmp_path / en_path.name).exists()
    assert (tmp_path / "zh" / en_path.name).exists()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_launch_badges_open_the_zh_notebook(chapter):
    repository, branch = launch_links.setting()
    name = ENGLISH[CHAPTERS.index(chapter)].name
    badges = chinese(chapter).cells[0]
    assert badges.id == launch_links.BADGES_ID
    assert badges.source == launch_links.badges_source(repository, branch, f"zh/{name}")


# --- nothing lost ----------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_nothing_lost_in_translation(chapter):
    problems = []
    for e, z in zip(english(chapter).cells, chinese(chapter).cells, strict=True):
        if e.cell_type != "markdown" or e.id == launch_links.BADGES_ID:
            continue
        kept, have = i18n.invariants(e.source), i18n.invariants(z.source)
        for kind, items in kept.items():
            for item in sorted(items - have[kind]):
                problems.append(f"cell {e.id}: {kind} {item!r} missing")
        zh_headings = [_flat(line) for line in z.source.splitlines() if line.startswith("#")]
        for line in e.source.splitlines():
            half = i18n.heading_chinese(line)
            if half and not any(_flat(half) in h for h in zh_headings):
                problems.append(f"cell {e.id}: no heading keeps {half!r}")
        if chapter not in NOT_YET_TRANSLATED and not i18n.has_cjk(z.source):
            problems.append(f"cell {e.id}: no Chinese text")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "chapter",
    [
        pytest.param(c, marks=pytest.mark.xfail(reason="not yet translated", strict=True))
        if c in NOT_YET_TRANSLATED
        else c
        for c in CHAPTERS
    ],
)
def test_catalogue_is_complete(chapter):
    po = catalogue(chapter)
    left = [
        f"{e.msgctxt}: {'fuzzy' if e.msgstr else 'untranslated'}"
        for e in po
        if not e.obsolete and not i18n.current(e)
    ]
    assert i18n.complete(po), f"{len(left)} entries left:\n" + "\n".join(left)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_text_left_in_english_is_a_verbatim_copy(chapter):
    # References stay English; anything else without a Chinese character is a mistake.
    odd = [
        e.msgctxt
        for e in catalogue(chapter)
        if e.msgstr and not e.obsolete and not i18n.has_cjk(e.msgstr) and e.msgstr != e.msgid
    ]
    assert not odd, f"English msgstr that is not a copy of the msgid: {odd}"


# --- one term per concept --------------------------------------------------------------------


@cache
def terms() -> list[dict]:
    with TERMS.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _glossary_rows(source: str) -> list[list[str]]:
    table = source[source.index(GLOSSARY_HEADING) :] if GLOSSARY_HEADING in source else source
    rows = [line for line in table.splitlines() if line.startswith("|")][2:]
    return [[col.strip() for col in row.strip().strip("|").split("|")] for row in rows]


def test_terms_list_is_built_from_the_ten_glossaries():
    by_english = {t["english"].lower(): t for t in terms()}
    assert len(by_english) == len(terms()), "one row per English term"
    missing = []
    for chapter in CHAPTERS:
        glossary = [c for c in english(chapter).cells if GLOSSARY_HEADING in c.source]
        assert len(glossary) == 1, f"chapter {chapter}: one glossary cell"
        for row in _glossary_rows(glossary[0].source):
            term = by_english.get(row[0].lower())
            if term is None or chapter not in term["chapters"].split():
                missing.append(f"{chapter}: {row[0]}")
            elif "seed" in row[1] and term["seed"] != "seed":
                missing.append(f"{chapter}: {row[0]} is a seed term")
    assert not missing, f"add to {TERMS.relative_to(ROOT)}: {missing}"
    for term in terms():
        assert term["zh"].strip(), term
        if term["en_match"]:
            assert re.search(term["en_match"], term["english"], re.I), term


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_translation_uses_the_terms_list(chapter):
    problems = []
    for entry in catalogue(chapter):
        if not i18n.current(entry) or entry.msgstr == entry.msgid:
            continue
        words, zh = i18n.prose(entry.msgid), _flat(entry.msgstr)
        for term in terms():
            if term["en_match"] and re.search(term["en_match"], words, re.I):
                if _flat(term["zh"]) not in zh:
                    problems.append(f"{entry.msgctxt}: {term['english']!r} needs {term['zh']!r}")
            for avoid in filter(None, term["avoid"].split("|")):
                if _flat(avoid) in zh:
                    problems.append(f"{entry.msgctxt}: {avoid!r}, the term is {term['zh']!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c not in NOT_YET_TRANSLATED])
def test_glossary_gives_the_terms_list_term_and_marks_the_seed(chapter):
    by_english = {t["english"].lower(): t for t in terms()}
    cell_id = next(c.id for c in english(chapter).cells if GLOSSARY_HEADING in c.source)
    zh_cell = next(c for c in chinese(chapter).cells if c.id == cell_id)
    rows = _glossary_rows(zh_cell.source[zh_cell.source.index("## 术语表") :])
    assert rows, "the zh glossary keeps its table"
    for english_term, chinese_term, *_ in rows:
        term = by_english[english_term.lower()]
        assert _flat(term["zh"]) in _flat(chinese_term), (english_term, chinese_term)
        assert ("原文" in chinese_term) == (term["seed"] == "seed"), (english_term, chinese_term)
