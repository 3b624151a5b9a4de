"""An entity whose "explode" operation raises."""
import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext):
    if context.operation_name == "explode":
        raise KeyError("no such counter")
    context.set_state((context.get_state(lambda: 0) or 0) + 1)


main = df.Entity.create(entity_function)
