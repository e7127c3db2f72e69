"""Locust user classes for the reference stacks, runnable by the plain ``locust`` CLI."""
