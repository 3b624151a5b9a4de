"""Returns a greeting for a city; an empty name is an error."""


def main(city: str) -> str:
    if not city:
        raise ValueError("a city name is required")
    return f"Hello {city}!"
