"""Replica faults: kill one member; the platform's restart policy brings it back."""
