from tests.push.conftest import sandbox, world  # noqa: F401  (the same world: demo CRM + sandbox)
