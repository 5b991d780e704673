#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turns a manual page written in Markdown (docs/man/NAME.N.md) into roff
with go-md2man, fit for an 80-column terminal and for a system where only
the installed files exist:

- the SPDX comment goes, and the "# NAME(N)" heading becomes the title line
  go-md2man reads ("% NAME N");
- links to other pages, [licensectl(1)](licensectl.1.md), become plain
  page references, licensectl(1);
- links to documents, [offline.md](../offline.md#x), name the installed
  copy: offline.md (DOCDIR/offline.md), DOCDIR being where this page's
  package installs its documents;
- the NAME line's dash is roff's "\\-", so whatis and apropos read it;
- text is left-aligned (".ad l"): justified lines with long paths and
  option names cannot be adjusted, and man --warnings says so;
- tables: every cell that is not short is set as a text block (T{ T}) and
  the last column may wrap (tbl's "x"), so no table is wider than the
  line; go-md2man leaves long cells on one line.

    md2man.py GO-MD2MAN DOCDIR INPUT.md OUTPUT
"""
import re
import subprocess
import sys

SHORT_CELL = 12  # characters: a cell longer than this becomes a text block


def markdown(text, docdir):
    text = "\n".join(line for line in text.splitlines() if not re.fullmatch(r"<!--.*-->", line))
    text = re.sub(r"^# ([A-Za-z0-9_.-]+)\(([0-9])\)$", r"% \1 \2", text, count=1, flags=re.M)
    # [name(N)](name.N.md) and `name`(N) ([name.N.md](name.N.md)): a page reference
    text = re.sub(r"\s*\(\[[A-Za-z0-9_.-]+\.[0-9]\.md\]\([A-Za-z0-9_.-]+\.[0-9]\.md\)\)", "", text)
    text = re.sub(r"\[([A-Za-z0-9_.-]+\([0-9]\))\]\([A-Za-z0-9_.-]+\.[0-9]\.md\)", r"\1", text)
    # [label](../doc.md#anchor): the installed document
    def doc(m):
        label, name = m.group(1), m.group(2)
        path = f"{docdir}/{name}"
        return f"{label} ({path})" if label.strip("`") != name else path
    text = re.sub(r"\[([^\]]+)\]\(\.\./([A-Za-z0-9_.-]+\.md)(?:#[^)]*)?\)", doc, text)
    # a bare docs/x.md in the text: the installed document too
    text = re.sub(r"`?docs/([A-Za-z0-9_.-]+\.md)`?", lambda m: f"{docdir}/{m.group(1)}", text)
    # [label](#anchor): a section of this page, named by its label
    text = re.sub(r"\[([^\]]+)\]\(#[^)]*\)", r"\1", text)
    left = re.search(r".{0,40}\]\([^)]*\.md[^)]*\)", text)
    if left:
        sys.exit("md2man.py: a link to a Markdown file is left: " + left.group(0))
    return text + "\n"


def tables(roff):
    out, lines, i = [], roff.split("\n"), 0
    while i < len(lines):
        out.append(lines[i])
        if lines[i] != ".TS":
            i += 1
            continue
        i += 1
        # options ("allbox;"), then format lines, the last ending in ".":
        # the last column of each may wrap
        while True:
            line = lines[i].rstrip()
            end = line.endswith(".")
            cols = line.rstrip(".").split()
            if cols and all(re.fullmatch(r"[lcr]x?", c) for c in cols):
                cols[-1] = cols[-1].rstrip("x") + "x"
                line = " ".join(cols) + (" ." if end else "")
            out.append(line)
            i += 1
            if end:
                break
        while lines[i] != ".TE":
            row = lines[i]
            # a row already split over T{ ... T} blocks is joined first
            while row.count("T{") > row.count("T}"):
                i += 1
                row += "\n" + lines[i]
            cells = []
            for cell in row.split("\t"):
                plain = cell.strip()
                if plain.startswith("T{"):
                    cells.append(cell)
                elif len(re.sub(r"\\f[BRIPC]|\\f\(..|\\&", "", plain)) > SHORT_CELL:
                    cells.append("T{\n" + plain + "\nT}")
                else:
                    cells.append(cell)
            out.append("\t".join(cells))
            i += 1
    return "\n".join(out)


def main():
    md2man, docdir, src, dst = sys.argv[1:]
    with open(src) as f:
        text = markdown(f.read(), docdir)
    roff = subprocess.run([md2man], input=text, capture_output=True, text=True, check=True).stdout
    # a path is one word: never hyphenated at the line's end; and lines are
    # left-aligned, not justified, as paths and option names are long words
    roff = roff.replace(docdir + "/", "\\%" + docdir + "/")
    roff = re.sub(r"^(\.TH .*)$", r"\1\n.ad l", roff, count=1, flags=re.M)
    # NAME is "name, name \- what", as lexgrog (whatis, apropos) reads it
    roff = re.sub(r"(\.SH NAME\n\.PP\n[^\n]*?) (?:—|-) ", r"\1 \\- ", roff, count=1)
    with open(dst, "w") as f:
        f.write(tables(roff))


main()
