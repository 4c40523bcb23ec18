from tests.push.conftest import any_world, sandbox, spotler_world, world  # noqa: F401  (the same worlds: demo CRM + sandbox)
