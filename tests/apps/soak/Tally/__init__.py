"""A counter entity: `add` adds its input; the soak test checks the exact count."""
import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext) -> None:
    if context.operation_name == "add":
        context.set_state(context.get_state(lambda: 0) + context.get_input())


main = df.Entity.create(entity_function)
