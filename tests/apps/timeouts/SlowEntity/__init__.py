"""Counts its operations and sleeps for the seconds each one's input says (blocking its thread)."""
import time

import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext):
    count = context.get_state(lambda: 0) + 1
    context.set_state(count)
    time.sleep(context.get_input() or 0)
    context.set_result(count)


main = df.Entity.create(entity_function)
