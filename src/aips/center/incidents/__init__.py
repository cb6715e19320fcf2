"""Incident cards (R67.3.4, R67.12, R67.15), part of the AIPS product: an organization's report
of an IS incident, prepared by its responsible employee, approved by its IS-unit head (which
submits it to the center) and returned for rework or accepted by the center, with
indicators, TLP, attached files, versions and a timeline."""
