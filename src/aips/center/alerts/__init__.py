"""Threat and vulnerability alerts (R67.3.3, R67.3.5, R67.10, R67.13, R67.15), part of the AIPS
product: written by hand or imported from CSAF 2.0 and NVD CVE JSON files, published by the
center to the organizations its TLP allows, acknowledged by each receiving organization's head
within one working day, and followed in the center's compliance view."""
