"""AIPS, the sectoral IS center's product (resolution No. 67): incident cards, threat and
vulnerability alerts, requests between organizations and to the regulator, integration modules
and the signals they send. It builds on the platform (`aips.shared`) and `aips.core`; the ETP
will be a sibling product that never imports it."""
