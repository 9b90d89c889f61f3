"""Generators of the reference pages (``docs/scenario-reference.md``, ``docs/cli.md``) from the
code: the pydantic scenario schema and the click commands. Kept apart from :mod:`zeropark.report`
(run reports) so that the report package never imports the CLI that registers its commands."""
