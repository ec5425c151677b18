"""ros room."""
