"""What both timeout orchestrators do: await a task that should fail, and say whether it did."""
import sys


def expect_failure(task):
    """Use as `return (yield from expect_failure(task))` in an orchestrator."""
    try:
        yield task
        return "test failed: expected exception, but no exception thrown"
    except GeneratorExit:
        raise
    except Exception:
        print("Caught", sys.exc_info()[0])
        return "test passed: exception thrown"
