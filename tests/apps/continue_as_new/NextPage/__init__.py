"""Returns the cursor of the page after `cursor` ("page-N"), or None after page 3."""
from typing import Optional


def main(cursor: str) -> Optional[str]:
    page = int(cursor.split("-")[1])
    return None if page >= 3 else f"page-{page + 1}"
