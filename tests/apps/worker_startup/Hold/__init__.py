"""An activity in flight until the test lets it go: it creates <release>.holding, then waits for the file <release>
to exist."""
import os
import time


def main(release: str) -> str:
    open(release + ".holding", "w").close()
    while not os.path.exists(release):
        time.sleep(0.01)
    return "released"
