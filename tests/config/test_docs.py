"""The documentation's references resolve: every relative link in README.md, docs/ and tests/apps/README.md
names an existing file (and heading), and every "§" reference in code, tests and docs names a page and one of
its numbered sections (docs/protocol.md §4.3)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
SECTION_REF = re.compile(r"§\s*(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?")
NUMBERED_HEADING = re.compile(r"^#{1,4} (\d+(?:\.\d+)?)\.? ", re.MULTILINE)


def tracked(*patterns: str) -> list[Path]:
    """Files git knows (tracked or new, not ignored) matching the patterns; .venv and the like stay out."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *patterns],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("tests/apps/README.md"))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    in_code, found = False, set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            found.add(slug(line.lstrip("#")))
    return found


def test_slugs_follow_github():
    assert slug("Debugging with F5, two ways") == "debugging-with-f5-two-ways"
    assert slug(" 2.1 How the SDK client encodes what it sends") == "21-how-the-sdk-client-encodes-what-it-sends"
    assert slug(" `durableClient` and the rest") == "durableclient-and-the-rest"


def test_the_protocol_has_its_numbered_sections():
    assert {"1", "2", "2.1", "2.2", "3", "4", "4.1", "4.2", "4.3", "5", "5.1", "5.2"} <= numbered_sections(PROTOCOL)


@pytest.mark.parametrize("page", docs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path):
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)
    assert broken == []


def numbered_sections(page: Path) -> set[str]:
    return set(NUMBERED_HEADING.findall(page.read_text(encoding="utf-8")))


def referenced_page(name: str, source: Path) -> Path | None:
    """The page a reference like `docs/protocol.md` or `protocol.md` names, seen from the file it is in."""
    for base in (ROOT, source.parent, ROOT / "docs"):
        if (base / name).is_file():
            return (base / name).resolve()
    return None


def section_reference_errors(path: Path, text: str | None = None) -> list[str]:
    """Every "§N" must follow the name of a page (`docs/protocol.md §4.3`; a page may cite its own sections
    bare) that has a heading numbered N."""
    errors = []
    text = path.read_text(encoding="utf-8") if text is None else text
    for number, line in enumerate(text.splitlines(), 1):
        page = path if path.suffix == ".md" else None
        for token in re.finditer(r"([\w./-]+\.md)\b|" + SECTION_REF.pattern, line):
            if token.group(1):
                page = referenced_page(token.group(1), path)
                continue
            where = f"{path.name}:{number}"
            if page is None:
                errors.append(f"{where}: § without the page it points into")
                continue
            sections = numbered_sections(page)
            errors += [f"{where}: {page.name} has no §{n}" for n in token.groups()[1:] if n and n not in sections]
    return errors


def test_a_section_reference_without_its_page_or_its_section_is_caught():
    text = "# see PROTOCOL §4.3\n# docs/protocol.md §4.3 and §9\n# docs/protocol.md §2-3, docs/security.md §3\n"

    errors = section_reference_errors(ROOT / "tests" / "config" / "probe.py", text)

    assert errors == ["probe.py:1: § without the page it points into", "probe.py:2: protocol.md has no §9"]


def test_every_section_reference_resolves():
    wrong = []
    for path in tracked("*.py", "*.md"):
        if path != Path(__file__).resolve():
            wrong += section_reference_errors(path)
    assert wrong == []
