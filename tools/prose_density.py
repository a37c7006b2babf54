"""How dense with numbers a chapter's prose reads: three figures per notebook.

    python tools/prose_density.py                      # every notebook in notebooks/
    python tools/prose_density.py notebooks/02_*.ipynb # some of them

For the Markdown of each notebook it prints

- numbers per 100 words,
- the share of sentences that carry three or more numbers,
- the mean number of words per sentence,

and marks a figure that misses the course's target (at most 2.0, 3 % and 20). The measure
follows the readability issue: prose only, so fenced and inline code, display maths, tables,
headings, HTML and link addresses are left out; a bullet counts as one sentence; an inline
formula ``$...$`` counts as one word and its numbers count (not its exponents or
indices; a fraction is one number). A number is a run of digits with
its decimals, exponent, percent sign or fraction bar (``0.25``, ``1e-3``, ``95%``, ``1/4``);
digits inside a name (``x1``, ``ch03``, ``L2``) are not numbers. ``--sentences N`` lists
the N sentences with the most numbers, to find the ones to rewrite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"numbers_per_100_words": 2.0, "dense_share": 0.03, "words_per_sentence": 20.0}

NUMBER = re.compile(
    r"(?<![\w.\\])[-+\u2212]?(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)(?:[eE][-+\u2212]?\d+)?"
    r"(?:/\d+(?:\.\d+)?)?%?(?![\w])")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z$`*_0-9])")
BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass
class Density:
    words: int
    numbers: int
    sentences: list[tuple[str, int, int]]  # (text, words, numbers)

    @property
    def numbers_per_100_words(self) -> float:
        return 100.0 * self.numbers / max(self.words, 1)

    @property
    def dense_share(self) -> float:
        dense = sum(1 for _, _, n in self.sentences if n >= 3)
        return dense / max(len(self.sentences), 1)

    @property
    def words_per_sentence(self) -> float:
        return self.words / max(len(self.sentences), 1)


def prose_of(markdown: str) -> str:
    """The prose of one Markdown cell: code, display maths, tables, headings and HTML removed."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\\\[.*?\\\]", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    rule = re.compile(r"\s*[-=*_]{3,}\s*")
    lines = [ln for ln in text.splitlines()
             if not ln.lstrip().startswith(("#", "|")) and not rule.fullmatch(ln)]
    text = "\n".join(lines)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)           # images
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)        # links: keep the text
    text = re.sub(r"`[^`]*`", " code ", text)                   # inline code: one word
    return text


def _units(prose: str) -> list[str]:
    """Sentences of a cell's prose; each bullet (with its continuation lines) is one."""
    units, paragraph = [], []

    def flush():
        if paragraph:
            units.extend(s for s in SENTENCE_END.split(" ".join(paragraph)) if s.strip())
            paragraph.clear()

    bullet: list[str] | None = None
    for line in prose.splitlines():
        if BULLET.match(line):
            flush()
            if bullet:
                units.append(" ".join(bullet))
            bullet = [BULLET.sub("", line)]
        elif not line.strip():
            if bullet:
                units.append(" ".join(bullet))
                bullet = None
            flush()
        elif bullet is not None:
            bullet.append(line.strip())
        else:
            paragraph.append(line.strip())
    if bullet:
        units.append(" ".join(bullet))
    flush()
    return units


def _plain_maths(sentence: str) -> str:
    """Inline formulas with exponents and indices dropped and each fraction made one number:
    in $10^{-3}$ or $\\tfrac14$ a reader sees one number, in $x_1^2$ none."""
    def simplify(m: re.Match) -> str:
        maths = re.sub(r"\\[dt]?frac\s*\{?(\d+)\}?\s*\{?(\d+)\}?", r" \1/\2 ", m.group(0))
        maths = re.sub(r"[\^_](\{[^{}]*\}|\\?\w)", " ", maths)
        return maths
    return re.sub(r"\$[^$]*\$", simplify, sentence)


def _count(sentence: str) -> tuple[int, int]:
    """(words, numbers) of one sentence; an inline formula is one word."""
    numbers = len(NUMBER.findall(_plain_maths(sentence)))
    without_maths = re.sub(r"\$[^$]*\$", " formula ", sentence)
    words = sum(1 for tok in without_maths.split() if re.search(r"[\w\u00C0-\uFFFF]", tok))
    return words, numbers


def measure(notebook: Path) -> Density:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sentences = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for unit in _units(prose_of("".join(cell["source"]))):
            words, numbers = _count(unit)
            if words:
                sentences.append((unit.strip(), words, numbers))
    return Density(words=sum(w for _, w, _ in sentences),
                   numbers=sum(n for _, _, n in sentences), sentences=sentences)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--sentences", type=int, default=0,
                        help="list this many of the sentences with the most numbers")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    print(f"{'notebook':<44}{'words':>7}{'num/100w':>10}{'3+ num':>8}{'w/sent':>8}")
    missed = 0
    for path in paths:
        d = measure(path)
        figures = (d.numbers_per_100_words, d.dense_share, d.words_per_sentence)
        marks = ["*" if v > TARGETS[k] + 1e-9 else " " for k, v in zip(TARGETS, figures)]
        missed += "*" in marks
        print(f"{path.stem:<44}{d.words:>7}{figures[0]:>9.2f}{marks[0]}{figures[1]:>7.1%}"
              f"{marks[1]}{figures[2]:>7.1f}{marks[2]}")
        if args.sentences:
            for text, words, numbers in sorted(d.sentences, key=lambda s: -s[2])[:args.sentences]:
                print(f"    [{numbers} numbers, {words} words] {text[:160]}")
    print(f"targets: at most {TARGETS['numbers_per_100_words']} numbers per 100 words, "
          f"{TARGETS['dense_share']:.0%} of sentences with 3+ numbers, "
          f"{TARGETS['words_per_sentence']:.0f} words per sentence (* = missed)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
