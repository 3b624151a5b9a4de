"""Returns a text file's content, or None when it does not exist (yet)."""
from pathlib import Path
from typing import Optional


def main(path: str) -> Optional[str]:
    file = Path(path)
    return file.read_text() if file.exists() else None
