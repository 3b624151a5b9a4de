"""Would process queued reports on Azure; devhost cannot fire queue triggers and lists it as not loaded."""
import azure.functions as func


def main(msg: func.QueueMessage) -> None:
    pass
