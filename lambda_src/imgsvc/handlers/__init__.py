"""Lambda entry points: each turns its event into typed values and calls the use cases."""
