def main(payload):
    return {"got": payload}
