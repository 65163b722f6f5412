"""The scheduler process: `python -m scheduler`. It holds no state; the database does."""
