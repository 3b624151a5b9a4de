"""An entity whose "crash" operation kills the worker process the first time it runs for a marker file."""
import os

import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext):
    marker = context.get_input()
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(13)
    context.set_state("survived")


main = df.Entity.create(entity_function)
