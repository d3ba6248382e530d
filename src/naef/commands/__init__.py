"""Commands of the ``naef`` command line that live outside ``naef.cli``; each module exposes ``register(app)``."""
