"""Facilitator outputs: the session brief, the yearly report and the pictures."""
