"""``python -m schema.export > schema.graphql``: the SDL the committed file must match."""

from schema import build_schema
from services.settings import Settings

if __name__ == "__main__":
    print(build_schema(Settings(_env_file=None)).as_str())  # type: ignore[call-arg]
