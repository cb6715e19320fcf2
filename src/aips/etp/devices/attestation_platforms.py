"""The production verifier for a deployment serving both phones (decision 0043):
`AIPS_ETP_ATTESTATION_VERIFIER=aips.etp.devices.attestation_platforms.PlatformVerifier`. The
token's prefix names its kind (`apple-appattest:`, `android-key:`, `play-integrity:`); anything
else is refused."""

from aips.etp.devices import attestation_android, attestation_apple, attestation_play
from aips.etp.devices.attestation import Attestation
from aips.etp.devices.attestation_common import refuse


class PlatformVerifier:
    name = "platform"

    def verify(self, *, token: str, client_id: str, key_sha256: str, nonce: str) -> Attestation:
        verifier: (
            attestation_apple.AppAttestVerifier
            | attestation_android.KeyAttestationVerifier
            | attestation_play.PlayIntegrityVerifier
        )
        if token.startswith(attestation_apple.TOKEN_PREFIX):
            verifier = attestation_apple.AppAttestVerifier()
        elif token.startswith(attestation_android.TOKEN_PREFIX):
            verifier = attestation_android.KeyAttestationVerifier()
        elif token.startswith(attestation_play.TOKEN_PREFIX):
            verifier = attestation_play.PlayIntegrityVerifier()
        else:
            raise refuse("token", "unknown kind")
        return verifier.verify(token=token, client_id=client_id, key_sha256=key_sha256, nonce=nonce)
