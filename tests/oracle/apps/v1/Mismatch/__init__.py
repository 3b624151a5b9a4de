def main(city: str) -> str:  # the binding is called "name": the worker refuses to load this function
    return city
