"""AIPS: the sectoral IS center's system for IS events, incidents, alerts, requests and signals."""
