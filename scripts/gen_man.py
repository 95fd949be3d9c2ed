#!/usr/bin/env python3
"""gen_man.py: the man pages are rendered from the docs they describe (rosterd(8) from
docs/DAEMON.md, rosterctl(1) from docs/CLI.md, roster(3) from docs/API.md), so a page and
its doc cannot drift. The output is committed in docs/man/ (read without a build, installed
by `make install`); the build regenerates it into build/man/ and the ctest `man_pages` runs
`--check`, which fails when a committed page differs from its doc's rendering.

    gen_man.py OUTDIR            write rosterd.8, rosterctl.1, roster.3 into OUTDIR
    gen_man.py --check MANDIR    exit 1 (with a diff) if MANDIR's pages are stale

The renderer knows the Markdown the docs use: headings, paragraphs, `-` lists, indented and
fenced code blocks, pipe tables (as tagged paragraphs: the first cell is the tag), and the
inline forms `code`, **bold**, *emphasis* and [text](link) (the link's text is kept)."""
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# page file, doc, section title, NAME line, SYNOPSIS lines, SEE ALSO
PAGES = [
    ("rosterd.8", "docs/DAEMON.md", "System Administration",
     "rosterd \\- the roster node daemon (distributed process registry)",
     ["rosterd [\\fIOPTIONS\\fR]"], "rosterctl(1), roster(3), systemd.service(5)"),
    ("rosterctl.1", "docs/CLI.md", "User Commands",
     "rosterctl \\- command-line client of a roster node",
     ["rosterctl [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]"],
     "rosterd(8), roster(3)"),
    ("roster.3", "docs/API.md", "Library Functions",
     "roster \\- libroster, the C client library of roster",
     ["#include <roster.h>", "cc ... $(pkg-config \\-\\-cflags \\-\\-libs roster)"],
     "rosterd(8), rosterctl(1)"),
]


def version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"project\(roster VERSION ([0-9.]+)", f.read())
    return m.group(1) if m else "0"


def esc(text):
    """Escapes roff's active characters in plain text."""
    text = text.replace("\\", "\\e")
    text = text.replace("-", "\\-")
    return text


def line_safe(s):
    """A roff text line may not start with . or ' (they would be requests)."""
    return "\\&" + s if s[:1] in (".", "'") else s


INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)")


def inline(text):
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        code, bold, emph, ltext, _ = m.groups()
        if code is not None:
            out.append("\\fB" + esc(code) + "\\fR")
        elif bold is not None:
            out.append("\\fB" + inline(bold) + "\\fR")
        elif emph is not None:
            out.append("\\fI" + inline(emph) + "\\fR")
        else:
            out.append(inline(ltext))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def cells(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    # A | inside `code` is part of the cell (for example `send|publish`).
    parts, cur, in_code = [], "", False
    for ch in row:
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def render_body(md):
    out = []
    lines = md.split("\n")
    i = 0
    first_heading = True
    para = []

    def flush():
        if para:
            out.append(".PP")
            out.append(line_safe(inline(" ".join(para))))
            para.clear()

    while i < len(lines):
        ln = lines[i]
        if ln.startswith("```"):
            flush()
            i += 1
            out.append(".PP\n.nf\n.RS 4")
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(line_safe(esc(lines[i])))
                i += 1
            out.append(".RE\n.fi")
            i += 1
            continue
        if ln.startswith("    ") and not para and (not out or True):
            flush()
            out.append(".PP\n.nf\n.RS 4")
            while i < len(lines) and (lines[i].startswith("    ") or (
                    not lines[i].strip() and i + 1 < len(lines) and lines[i + 1].startswith("    "))):
                out.append(line_safe(esc(lines[i][4:])))
                i += 1
            out.append(".RE\n.fi")
            continue
        m = re.match(r"^(#{1,4})\s+(.*)", ln)
        if m:
            flush()
            level, title = len(m.group(1)), m.group(2)
            if level == 1:
                if first_heading:  # the doc's title is the page's NAME line
                    first_heading = False
                else:
                    out.append(".SH " + inline(title.upper()))
            elif level == 2:
                out.append(".SH " + inline(title.upper()))
            else:
                out.append(".SS " + inline(title))
            i += 1
            continue
        if ln.lstrip().startswith("|") and i + 1 < len(lines) and re.match(
                r"^\s*\|?\s*:?-{3,}", lines[i + 1]):
            flush()
            head = cells(ln)
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                row = cells(lines[i])
                out.append(".TP")
                out.append(line_safe(inline(row[0]) if row[0] else "\\&"))
                rest = []
                for h, c in zip(head[1:], row[1:]):
                    if c:
                        rest.append((inline(h) + ": " if h else "") + inline(c))
                out.append(line_safe(" \\(em ".join(rest)) if rest else "\\&")
                i += 1
            continue
        m = re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)", ln)
        if m:
            flush()
            item = [m.group(3)]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip() and \
                    not re.match(r"^\s*([-*]|\d+\.)\s", lines[i]):
                item.append(lines[i].strip())
                i += 1
            bullet = "\\(bu" if m.group(2) in "-*" else m.group(2)
            out.append('.IP "%s" 4' % bullet)
            out.append(line_safe(inline(" ".join(item))))
            continue
        if not ln.strip():
            flush()
            i += 1
            continue
        para.append(ln.strip())
        i += 1
    flush()
    return out


def render(page, doc, section_title, name_line, synopsis, see_also):
    with open(os.path.join(ROOT, doc)) as f:
        md = f.read()
    name, sect = page.rsplit(".", 1)
    out = [
        ".\\\" Generated by scripts/gen_man.py from %s: edit the doc, not this file." % doc,
        '.TH %s %s "" "roster %s" "%s"' % (name.upper(), sect, version(), section_title),
        ".SH NAME", name_line, ".SH SYNOPSIS", ".nf",
    ]
    out += [line_safe(s) for s in synopsis]
    out.append(".fi")
    out.append(".SH DESCRIPTION")
    out += render_body(md)
    out += [".SH SEE ALSO", see_also, ""]
    return "\n".join(out)


def main(argv):
    check = len(argv) == 3 and argv[1] == "--check"
    if len(argv) != 2 and not check:
        sys.stderr.write("usage: gen_man.py OUTDIR | --check MANDIR\n")
        return 2
    outdir = argv[-1]
    stale = 0
    for p in PAGES:
        text = render(*p)
        path = os.path.join(outdir, p[0])
        if check:
            try:
                with open(path) as f:
                    have = f.read()
            except OSError:
                have = ""
            if have != text:
                stale += 1
                sys.stdout.writelines(difflib.unified_diff(
                    have.splitlines(True), text.splitlines(True), path, "rendered from " + p[1]))
        else:
            os.makedirs(outdir, exist_ok=True)
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)
    if stale:
        sys.stderr.write("%d man page(s) differ from their docs: run scripts/gen_man.py docs/man\n"
                         % stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
