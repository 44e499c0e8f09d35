"""The README and docs/ pages: every relative link points to a file or directory of the repository, every anchor to
a heading of its target page (GitHub's slug rule), the README stays a front page, and no page refers to anything
outside the repository."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
README_MAX_LINES = 160

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`+[^`]*?`+")
# [text](target) and ![alt](target); the target may carry a title: (target "title").
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
MARKDOWN_LINK_TEXT = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
FORBIDDEN = {
    "a path outside the repository": re.compile(r"\.\./shared"),
    "PAPER.md (not a file of this repository)": re.compile(r"PAPER\.md"),
    "the word 'session'": re.compile(r"\bsessions?\b", re.IGNORECASE),
    "'issue' followed by a number": re.compile(r"\bissue\s+\d", re.IGNORECASE),
}


def prose_lines(text: str) -> list[str]:
    """The page's lines outside fenced code blocks (code blocks hold neither headings nor links)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: strip, lowercase, keep word characters, spaces and hyphens,
    spaces to hyphens."""
    text = MARKDOWN_LINK_TEXT.sub(r"\1", heading)  # a link in a heading counts by its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a Markdown page; repeated headings get -1, -2, … as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        if slug in seen:
            seen[slug] += 1
            result.add(f"{slug}-{seen[slug]}")
        else:
            seen[slug] = 0
            result.add(slug)
    return result


def links(page: Path) -> list[str]:
    """The targets of the page's Markdown links and images, outside code blocks and code spans."""
    found = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        found += LINK.findall(INLINE_CODE.sub("", line))
    return found


def is_external(target: str) -> bool:
    return re.match(r"^(https?:|mailto:)", target, re.IGNORECASE) is not None


def broken_links(page: Path) -> list[str]:
    """Each relative link of `page` whose file, directory or anchor does not exist, with the reason."""
    problems = []
    for target in links(page):
        if not target or is_external(target):
            continue
        path_part, _, anchor = target.partition("#")
        path_part = unquote(path_part)
        if path_part:
            resolved = (page.parent / path_part).resolve()
            if not resolved.is_relative_to(REPO):
                problems.append(f"{target}: outside the repository")
                continue
            if not resolved.exists():
                problems.append(f"{target}: {resolved.relative_to(REPO)} does not exist")
                continue
        else:
            resolved = page
        if anchor:
            if resolved.is_dir() or resolved.suffix.lower() != ".md":
                problems.append(f"{target}: an anchor into something that is not a Markdown page")
            elif unquote(anchor) not in anchors(resolved):
                problems.append(f"{target}: no heading with the anchor #{anchor} in {resolved.relative_to(REPO)}")
    return problems


def page_id(page: Path) -> str:
    return str(page.relative_to(REPO))


def test_the_pages_exist():
    assert (REPO / "README.md").is_file()
    assert len(PAGES) > 1, "docs/ holds no Markdown pages"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_and_anchors_resolve(page):
    problems = broken_links(page)
    assert not problems, f"{page_id(page)}: broken links:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_reference_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    found = [
        f"line {number}: {what}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), 1)
        for what, pattern in FORBIDDEN.items()
        if pattern.search(line)
    ]
    assert not found, f"{page_id(page)}:\n" + "\n".join(found)


def test_readme_is_a_front_page():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; keep it at most {README_MAX_LINES}"


def test_the_checker_catches_what_it_should(tmp_path):
    """The slug rule and the checks themselves, on a page with known answers."""
    assert github_slug("The proxy's loss plateau") == "the-proxys-loss-plateau"
    assert github_slug("`select_strength`: chosen on English dev!") == "select_strength-chosen-on-english-dev"
    assert github_slug("  Résumé — after a crash ") == "résumé--after-a-crash"
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n## Same\n## Same\n```\n# not a heading\n[x](missing-in-code.md)\n```\n"
        "[ok](#same-1) [bad](#same-2) [gone](nowhere.md) `[code](span.md)` [web](https://example.org)\n",
        encoding="utf-8",
    )
    assert anchors(page) == {"title", "same", "same-1"}
    assert links(page) == ["#same-1", "#same-2", "nowhere.md", "https://example.org"]
