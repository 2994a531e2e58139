"""PortOne (I'mport V1 + V2) emulator for pointcharge's development and tests.

Shares no code with services/ on purpose: an emulator built from the client's own code would
agree with the client's bugs. See sandbox/app.py for the layout and sandbox/store.py for the
interface the browser checkout builds on.
"""

from .config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]


def create_app(config: SandboxConfig | None = None):
    from .app import create_app as _create_app  # lazy: keep `import sandbox` light

    return _create_app(config)
