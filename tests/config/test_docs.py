"""The documentation's references resolve: every relative link in README.md, docs/ and tests/apps/README.md
names an existing file (and heading), and every "§" reference in code, tests and docs names a numbered section
of docs/protocol.md."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
SECTION_REF = re.compile(r"§\s*(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?")
NUMBERED_HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)?)\.? ", re.MULTILINE)


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


def protocol_sections() -> set[str]:
    return set(NUMBERED_HEADING.findall(PROTOCOL.read_text(encoding="utf-8")))


def test_slugs_follow_github():
    assert slug("Debugging with F5, two ways") == "debugging-with-f5-two-ways"
    assert slug(" 2.1 How the SDK client encodes what it sends") == "21-how-the-sdk-client-encodes-what-it-sends"
    assert slug(" `durableClient` and the rest") == "durableclient-and-the-rest"


def test_the_protocol_has_its_numbered_sections():
    assert {"1", "2", "2.1", "2.2", "3", "4", "4.1", "4.2", "4.3", "5", "5.1", "5.2"} <= protocol_sections()


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


def test_every_section_reference_points_into_the_protocol():
    sections = protocol_sections()
    wrong = []
    for path in tracked("*.py", "*.md"):
        if path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "§" not in line:
                continue
            where = f"{path.relative_to(ROOT)}:{number}"
            if path != PROTOCOL and "protocol.md" not in line:
                wrong.append(f"{where}: names no docs/protocol.md")
            for first, last in SECTION_REF.findall(line):
                wrong += [f"{where}: no §{n}" for n in (first, last) if n and n not in sections]
    assert wrong == []
