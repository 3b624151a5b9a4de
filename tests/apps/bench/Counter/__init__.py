"""A counter entity: add, reset, get."""
import azure.durable_functions as df


def entity_function(context: df.DurableEntityContext):
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += context.get_input()
    elif operation == "reset":
        value = 0
    context.set_state(value)
    context.set_result(value)


main = df.Entity.create(entity_function)
