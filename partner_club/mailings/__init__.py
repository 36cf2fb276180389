"""Mailings to segments of people, and call lists."""
