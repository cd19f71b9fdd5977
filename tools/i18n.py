"""The Chinese edition: gettext catalogues from the English notebooks, and the zh notebooks.

Usage::

    .venv/bin/python tools/i18n.py            # make zh: update i18n/zh/*.po, write notebooks/zh/
    .venv/bin/python tools/i18n.py --check    # exit 1 if make zh would change any file
    .venv/bin/python tools/i18n.py --status   # per chapter: translated / fuzzy / untranslated

The English notebook in notebooks/ is the one source. Each markdown cell is cut into
paragraphs (a heading, a paragraph, a list item, a table row); every paragraph with words in it
is one entry of the chapter's catalogue ``i18n/zh/NN_name.po``, with ``msgctxt`` = the cell's
nbformat id and the paragraph's index (``ch01-02:1``) and ``msgid`` = the English text.
Paragraphs without words (display formulas, a table's ``|---|`` row) are copied as they are.

Updating a catalogue after an English change keeps every translation it can and never
leaves stale Chinese looking current:

- same context, same English: kept;
- the same English elsewhere (a paragraph moved, a cell re-created with a new id): kept;
- changed English in the same place, or a similar paragraph of the same cell: the old Chinese
  is kept but marked ``fuzzy``, with the old English as ``#| msgid`` so Poedit/Weblate show
  the difference;
- new English: an empty entry. Entries no longer used become obsolete (``#~``), not lost.

Building a zh notebook copies the English one and replaces the text of each paragraph by its
translation when the entry is translated and not fuzzy; otherwise the English paragraph stays
(gettext's fallback). Code cells are copied with their outputs and execution counts, so the zh
notebook is output-identical to the executed English one without running it again
(tests/test_i18n.py checks that cell by cell). The launch badges open the zh notebook.
README.zh.md's chapter table (between its markers) is rewritten from the catalogues' state.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import polib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import launch_links  # noqa: E402

LANG = "zh"
HEADER = (
    "Chinese (Simplified) translation of notebooks/{name}.\n"
    "Generated and updated by tools/i18n.py (make zh): edit the msgstr lines only.\n"
    "Conventions and terms: i18n/zh/README.md, i18n/zh/terms.csv."
)
METADATA = {
    "Project-Id-Version": "training-neural-networks-interactively",
    "Language": "zh_CN",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
    "Plural-Forms": "nplurals=1; plural=0;",
}
FUZZY_RATIO = 0.5  # a changed paragraph at least this similar to an old one inherits it, fuzzy
README_ZH = "README.zh.md"
TABLE_START, TABLE_END = "<!-- zh-chapters:start -->", "<!-- zh-chapters:end -->"

# --- paragraphs ------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"([-*+]|\d+\.)\s")
_FENCE = re.compile(r"\s*(```|~~~)")
_MATH_BLOCK = re.compile(r"\$\$.+?\$\$", re.S)
_MATH_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+?\$")
_CODE_SPAN = re.compile(r"`[^`\n]+(?:\n[^`\n]+)*`")
_FENCED = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[ \t]*$", re.S | re.M)
_LINK_TARGET = re.compile(r"\]\(\s*([^)\s]+)[^)]*\)|(?:href|src)=\"([^\"]+)\"")
_URL = re.compile(r"https?://\S+")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[A-Za-z]{2,}")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _units(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges [start, end) of the paragraphs of a markdown cell."""
    units, start, fence = [], None, False
    for i, line in enumerate(lines):
        if fence:
            fence = not _FENCE.match(line)
            continue
        if _FENCE.match(line):
            fence = True
            start = i if start is None else start
            continue
        if not line.strip():
            if start is not None:
                units.append((start, i))
                start = None
            continue
        new_unit = (
            line.startswith("#")
            or line.startswith("|")
            or _LIST_ITEM.match(line)
            or (start is not None and lines[start].startswith(("#", "|")))
        )
        if start is not None and new_unit:
            units.append((start, i))
            start = None
        start = i if start is None else start
    if start is not None:
        units.append((start, len(lines)))
    return units


def split_paragraphs(source: str) -> list[tuple[str, bool]]:
    """The cell's source as pieces (text, is_paragraph); ``"".join`` of the texts is the source.

    Headings, list items and table rows are paragraphs of their own; blank lines separate the
    others; fenced code stays inside the paragraph it belongs to.
    """
    lines = source.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    pieces, position = [], 0
    for start, end in _units(lines):
        begin, finish = offsets[start], offsets[end] - 1
        if begin > position:
            pieces.append((source[position:begin], False))
        pieces.append((source[begin:finish], True))
        position = finish
    if position < len(source) or not pieces:
        pieces.append((source[position:], False))
    return pieces


def prose(text: str) -> str:
    """The words of a paragraph: formulas, code, link targets and URLs removed."""
    for pattern in (_FENCED, _MATH_BLOCK, _MATH_INLINE, _CODE_SPAN, _LINK_TARGET, _URL):
        text = pattern.sub(" ", text)
    return re.sub(r"<[^>]+>", " ", text)


def translatable(text: str) -> bool:
    return bool(_WORD.search(prose(text)))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())


def invariants(text: str) -> dict[str, set[str]]:
    """What a translation must keep: formulas, code, link targets and numbers."""
    fenced = {_squash(m.group(0)) for m in _FENCED.finditer(text)}
    rest = _FENCED.sub(" ", text)
    blocks = {_squash(m) for m in _MATH_BLOCK.findall(rest)}
    rest = _MATH_BLOCK.sub(" ", rest)
    inline = {_squash(m) for m in _MATH_INLINE.findall(rest)}
    rest = _MATH_INLINE.sub(" ", rest)
    code = {_squash(m) for m in _CODE_SPAN.findall(rest)}
    rest = _CODE_SPAN.sub(" ", rest)
    links = {a or b for a, b in _LINK_TARGET.findall(rest)}
    rest = _URL.sub(" ", _LINK_TARGET.sub(" ", rest))
    return {
        "formulas": blocks | inline,
        "code": code | fenced,
        "links": links,
        "numbers": set(_NUMBER.findall(rest)),
    }


def heading_chinese(line: str) -> str | None:
    """The Chinese half of an "English · 中文" heading (up to a colon or a parenthesis)."""
    if not line.startswith("#") or " · " not in line:
        return None
    half = re.split(r"[:：(（]", line.rsplit(" · ", 1)[1])[0].strip()
    return half if _CJK.search(half) else None


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


# --- catalogues ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    context: str  # "<cell id>:<index>"
    cell_id: str
    english: str


def paragraphs(notebook) -> list[Paragraph]:
    """The translatable paragraphs of a notebook, in order (the badge cell is generated)."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown" or cell.id == launch_links.BADGES_ID:
            continue
        texts = [t for t, is_par in split_paragraphs(cell.source) if is_par and translatable(t)]
        found += [Paragraph(f"{cell.id}:{i}", cell.id, t) for i, t in enumerate(texts)]
    return found


def catalogue_path(notebook: Path, root: Path = ROOT) -> Path:
    return root / "i18n" / LANG / f"{notebook.stem}.po"


def new_catalogue(name: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=78)
    po.header = HEADER.format(name=name)
    po.metadata = dict(METADATA)
    return po


def _cell_of(entry: polib.POEntry) -> str:
    return (entry.msgctxt or "").rsplit(":", 1)[0]


def updated_catalogue(notebook, old: polib.POFile | None, name: str) -> polib.POFile:
    """The catalogue for ``notebook``, keeping what ``old`` has (see the module docstring)."""
    po = new_catalogue(name)
    if old is not None:
        po.metadata = {**old.metadata, **METADATA}
    olds = [e for e in (old or []) if e.msgstr]  # an empty old entry carries nothing
    used: set[int] = set()

    def take(match) -> polib.POEntry | None:
        for i, entry in enumerate(olds):
            if i not in used and match(entry):
                used.add(i)
                return entry
        return None

    pars = paragraphs(notebook)
    found: dict[str, polib.POEntry | None] = {}
    # Pass 1, exact English: same place first, then anywhere (a moved paragraph).
    for par in pars:
        found[par.context] = take(
            lambda e, p=par: e.msgctxt == p.context and e.msgid == p.english
        ) or take(lambda e, p=par: e.msgid == p.english and not e.obsolete)
    for par in pars:
        entry = polib.POEntry(msgctxt=par.context, msgid=par.english)
        prior = found[par.context]
        if prior is not None:
            entry.msgstr = prior.msgstr
            entry.tcomment = prior.tcomment
            if "fuzzy" in prior.flags:
                entry.flags = ["fuzzy"]
                entry.previous_msgid = prior.previous_msgid
            po.append(entry)
            continue
        # Pass 2, changed English: same place, else the most similar paragraph of the cell.
        prior = take(lambda e, p=par: e.msgctxt == p.context and not e.obsolete)
        if prior is None:
            ratios = [
                (difflib.SequenceMatcher(None, e.msgid, par.english).ratio(), i)
                for i, e in enumerate(olds)
                if i not in used and _cell_of(e) == par.cell_id and not e.obsolete
            ]
            best = max(ratios, default=(0.0, -1))
            if best[0] >= FUZZY_RATIO:
                used.add(best[1])
                prior = olds[best[1]]
        if prior is not None:
            entry.msgstr = prior.msgstr
            entry.tcomment = prior.tcomment
            entry.flags = ["fuzzy"]
            entry.previous_msgid = prior.previous_msgid or prior.msgid
        po.append(entry)
    for i, entry in enumerate(olds):
        if i not in used:
            gone = polib.POEntry(msgctxt=entry.msgctxt, msgid=entry.msgid, msgstr=entry.msgstr)
            gone.obsolete = True
            po.append(gone)
    return po


def current(entry: polib.POEntry) -> bool:
    """A translation that may be shown: present, and not marked fuzzy."""
    return bool(entry.msgstr) and "fuzzy" not in entry.flags and not entry.obsolete


def counts(po: polib.POFile) -> dict[str, int]:
    live = [e for e in po if not e.obsolete]
    return {
        "translated": sum(current(e) for e in live),
        "fuzzy": sum("fuzzy" in e.flags for e in live),
        "untranslated": sum(not e.msgstr for e in live),
        "total": len(live),
    }


def complete(po: polib.POFile) -> bool:
    c = counts(po)
    return c["total"] > 0 and c["translated"] == c["total"]


# --- zh notebooks ----------------------------------------------------------------------------


def zh_notebook_path(notebook: Path, root: Path = ROOT) -> Path:
    return root / "notebooks" / LANG / notebook.name


def translated_source(source: str, cell_id: str, table: dict[str, str]) -> str:
    out, index = [], 0
    for text, is_par in split_paragraphs(source):
        if is_par and translatable(text):
            out.append(table.get(f"{cell_id}:{index}", text))
            index += 1
        else:
            out.append(text)
    return "".join(out)


def zh_notebook(notebook, po: polib.POFile, name: str):
    """The zh edition of ``notebook``: translated markdown, code cells copied with outputs."""
    table = {e.msgctxt: e.msgstr for e in po if current(e)}
    zh = copy.deepcopy(notebook)
    repository, branch = launch_links.setting()
    for cell in zh.cells:
        if cell.cell_type != "markdown":
            continue
        if cell.id == launch_links.BADGES_ID:
            cell.source = launch_links.badges_source(repository, branch, f"{LANG}/{name}")
        else:
            cell.source = translated_source(cell.source, cell.id, table)
    return zh


# --- README.zh.md ----------------------------------------------------------------------------


def chapter_title(notebook) -> str:
    """The Chinese half of the chapter's title (``一、激活函数``)."""
    for cell in notebook.cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
            if line.startswith("# "):
                return line.rsplit(" · ", 1)[-1].strip()
    return ""


def readme_table(rows: list[tuple[Path, object, polib.POFile]]) -> str:
    repository, branch = launch_links.setting()
    lines = ["| 章 | 标题 | 笔记本 | 翻译状态 | Binder | Colab |", "|---|---|---|---|---|---|"]
    for path, notebook, po in rows:
        c = counts(po)
        status = "已完成" if complete(po) else f"未完成（{c['translated']}/{c['total']} 段已译）"
        binder = launch_links.binder_url(repository, branch, f"{LANG}/{path.name}")
        colab = launch_links.colab_url(repository, branch, f"{LANG}/{path.name}")
        lines.append(
            f"| {path.name[:2]} | {chapter_title(notebook)} "
            f"| [`{LANG}/{path.name}`](notebooks/{LANG}/{path.name}) | {status} "
            f"| [![Binder]({launch_links.BINDER_BADGE})]({binder}) "
            f"| [![Colab]({launch_links.COLAB_BADGE})]({colab}) |"
        )
    return "\n".join([TABLE_START, *lines, TABLE_END])


# --- make zh -----------------------------------------------------------------------------------


def english_notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def planned(root: Path = ROOT) -> dict[Path, str]:
    """Every file ``make zh`` writes, with the text it writes."""
    files, rows = {}, []
    for path in english_notebooks(root):
        notebook = nbformat.read(path, as_version=4)
        po_path = catalogue_path(path, root)
        old = polib.pofile(str(po_path), wrapwidth=78) if po_path.exists() else None
        po = updated_catalogue(notebook, old, path.name)
        files[po_path] = po.__unicode__()
        files[zh_notebook_path(path, root)] = nbformat.writes(zh_notebook(notebook, po, path.name))
        rows.append((path, notebook, po))
    readme = root / README_ZH
    text = readme.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise ValueError(f"{README_ZH} has no {TABLE_START} ... {TABLE_END} block")
    head, rest = text.split(TABLE_START, 1)
    files[readme] = head + readme_table(rows) + rest.split(TABLE_END, 1)[1]
    return files


def _stored(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def _normalised(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def run(root: Path = ROOT, check: bool = False) -> list[Path]:
    """Write (or with ``check``, only list) the files that differ from what make zh writes."""
    stale = []
    for path, text in planned(root).items():
        text = _normalised(text)
        if _stored(path) != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument("--status", action="store_true", help="translation state per chapter")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.status:
        for path in english_notebooks(args.root):
            po_path = catalogue_path(path, args.root)
            c = counts(polib.pofile(str(po_path))) if po_path.exists() else {"total": 0}
            print(f"{path.stem}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
        return 0
    stale = run(args.root, check=args.check)
    for path in stale:
        rel = path.relative_to(args.root)
        print(f"{rel}: out of date; run make zh" if args.check else f"wrote {rel}")
    if not args.check:
        print(f"make zh: {len(stale)} file(s) written")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
