"""Pieces every Nasiko platform service shares: settings, health reports,
logging, and the container health probe."""
