"""The service-desk staples on the sandbox estate: log volumes (with an archive) and VPN sessions."""

from __future__ import annotations

from actiondesk.adapters.sandbox.estate import SandboxEstate
from actiondesk.adapters.sandbox.world import LogVolume
from actiondesk.core.errors import ActionFailedError
from actiondesk.core.ports import Clock
from actiondesk.core.systems import Volume

ROTATED_PCT = 35.0  # what a volume holds after old logs are rotated out


def _volume(record: LogVolume) -> Volume:
    return Volume(host=record.host, path=record.path, used_pct=record.used_pct, size_gb=record.size_gb)


class SandboxStaples:
    """Volumes and VpnSessions over the sandbox estate. The archive is named after the volume and the time."""

    def __init__(self, estate: SandboxEstate, clock: Clock) -> None:
        self._estate = estate
        self._clock = clock

    def volume(self, host: str) -> Volume:
        return _volume(self._estate.volume(host))

    def archive_volume(self, host: str) -> str:
        record = self._estate.volume(host)
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%SZ")
        return f"archive://{record.host}{record.path}/{stamp}.tar.zst"

    def clear_volume(self, host: str) -> Volume:
        return _volume(self._estate.clear_volume(host, ROTATED_PCT))

    def restore_volume(self, host: str, archive: str, used_pct: float) -> Volume:
        if not archive.startswith(f"archive://{host}/"):
            raise ActionFailedError(f"archive {archive!r} is not one of {host}'s")
        return _volume(self._estate.restore_volume_usage(host, used_pct))

    def vpn_session(self, user: str) -> str:
        return str(self._estate.vpn_session(user).value)

    def unlock_vpn_session(self, user: str) -> str:
        return str(self._estate.unlock_vpn_session(user).value)

    def lock_vpn_session(self, user: str) -> str:
        return str(self._estate.lock_vpn_session(user).value)
