"""Request building: one function per API call that validates its input, serialises the body once and
chooses how its reply is parsed (``call.py``: the ``ApiCall`` they return and the shared helpers)."""
