"""Account fixtures (tests/auth/support.py)."""
from tests.auth.support import *  # noqa: F401,F403
