"""fraud package."""
