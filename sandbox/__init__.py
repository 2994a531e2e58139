"""The gateway emulators for pointcharge's development and tests, one package per gateway:
portone/ (I'mport V1 + V2) and bootpay/ (REST v2); shared.py and persist.py are what both use.

Shares no code with services/ on purpose: an emulator built from the client's own code would
agree with the client's bugs. ``create_app`` is the PortOne emulator (sandbox/portone/app.py);
sandbox/cli.py mounts both.
"""

from .portone.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]


def create_app(config: SandboxConfig | None = None):
    from .portone.app import create_app as _create_app  # lazy: keep `import sandbox` light

    return _create_app(config)
