"""The server side of the ETP's mobile application (R57.27, R57.28.3): the app's identification
(a registered client id, a per-device key pair, a platform-attestation token checked by a
pluggable verifier), the registration of a device to a participant after an EDS or biometric
sign-in, mobile sign-ins signed with the device key and stored with the geolocation or its
refusal, the minimum supported app version, refusal of compromised devices and answers never
cached (docs/mobile.md, docs/domains/etp.md "Mobile API")."""
